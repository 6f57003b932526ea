"""Reading feeds from the internet: the SSRF guard, the fetcher with its size cap and
politeness, recognising upstream error pages, and parsing off the event loop."""
