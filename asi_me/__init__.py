"""ASI M&E Explorer core: data contract, store, queries, disclosure policy, ingest, demo data.

Nothing in this package imports streamlit.
"""

__version__ = "0.1.0"
