"""Analytics widgets: dashboard and reports, report builder, segments."""
