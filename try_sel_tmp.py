import os, sys
sys.path.insert(0, "tests/app"); sys.path.insert(0, "tests")
os.environ["ASI_DATA_DIR"] = "/work/wt-register/data"
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("/work/wt-register/app.py", default_timeout=60)
at.query_params["role"] = "secretariat"
at.run()
at.switch_page("pages/map.py").run()
print([e.value for e in at.exception][:1])
df = [d for d in at.dataframe if d.key == "map_register"][0]
ids = st_ids = at.session_state["map_register_ids"]
at.session_state["map_register"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
at.run()
print([e.value for e in at.exception][:1])
print(ids[2], at.session_state["map_cert"] if "map_cert" in at.session_state else None)
order = []
def walk(node, depth=0):
    for child in getattr(node, "children", {}).values():
        t = getattr(child, "type", "")
        k = getattr(child, "key", None)
        if t in ("dataframe", "markdown", "header", "button"):
            order.append((t, k, str(getattr(child, "value", ""))[:40]))
        walk(child, depth+1)
walk(at._tree)
for o in order[-25:]: print(o)
