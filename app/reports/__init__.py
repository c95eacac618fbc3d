"""Rendering of the clinician's trend report: the SVG chart and the printable HTML page.

Pure functions over already-computed trend objects; loading data and HTTP live elsewhere.
Nothing is re-exported here, so importing the HTML side does not import matplotlib.

For the endpoints (API.md, Trends), after ``trend = compute_trend(inputs)``:
- ``chart.svg``: ``render_trend_chart(trend, daily, sessions)`` from ``app.reports.chart``, with
  ``daily = timeseries(inputs.episodes, inputs.checkins, trend.windows[0].start,
  trend.windows[-1].end, "day")`` and ``sessions = [ChartSession(row.local_day, row.completed)
  for row in inputs.sessions]``; sent as ``image/svg+xml``.
- ``report``: ``render_report_html(ReportContext(...))`` from ``app.reports.html`` (the context
  classes are in ``app.reports.context``, ``chart_svg`` is the chart above), sent as
  ``text/html`` with ``Content-Security-Policy: REPORT_CSP`` and ``Cache-Control: no-store``.
"""
