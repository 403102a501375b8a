"""Reports for people: PNG plots (matplotlib, Agg) and one self-contained HTML page.

:mod:`tinyvision.report.html` assembles a page from headings, text, tables and images
(embedded as base64, so the file stands alone); :mod:`tinyvision.report.plots` draws the
figures that classification and detection reports share (confusion matrices, curves, bars).
"""

from tinyvision.report.html import HtmlReport

__all__ = ["HtmlReport"]
