"""Reports: data builders for the briefing, the card report and the scorecard, and PDF rendering."""
