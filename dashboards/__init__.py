"""The steering group's dashboard: a Streamlit app that reads one published release, read-only.

`app.py` is the entry point (`streamlit run dashboards/app.py`). Data access lives only in
`release.py`, number and suppression display only in `formatting.py`, German wording in
`labels.py`, the sidebar in `filters.py`, shared page parts in `components.py`, and one
page per question in `views/`.
"""
