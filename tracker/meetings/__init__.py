"""Joint meetings (联席会议): meetings, decisions and their follow-up as supervised items (督办事项)."""
