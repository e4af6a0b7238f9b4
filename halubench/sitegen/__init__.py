"""The static leaderboard site: HTML pages (jinja2), SVG charts (matplotlib), explorer data.

It must open from ``file://`` as well as from any static host, so it fetches
nothing: data for the sample explorer is in JavaScript files that call
``halubenchData.put(key, value)``, added as script tags when a page needs them.
"""
