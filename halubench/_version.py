"""The harness version, in a module of its own at the bottom of the layers.

Every layer stamps it (results provenance, the site's footer, the refresh's
drift check) while the root package sits near the top, offering the Python API;
so the version lives here, where anyone may import it, and the root re-exports it.
"""

__version__ = "0.1.0"
