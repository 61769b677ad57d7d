"""两降两升: indicators, monthly figures per town and district, comparisons, rankings, Excel and charts."""
