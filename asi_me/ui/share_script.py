"""The browser side of the "Copy link" control: the link box always shows the address bar's URL,
which Streamlit rewrites when a part of a page (a fragment) changes a URL parameter without the
frame running again. One constant inline script, allowed by its hash in the Content-Security-Policy
(asi_me.ui.asgi); no Streamlit import, so the ASGI module can hash it cheaply."""

from __future__ import annotations

import base64
import hashlib

SHARE_LINK_SCRIPT = """
(() => {
  const boxes = () => document.querySelectorAll("input.asi-share-url");
  const update = () => boxes().forEach((box) => {
    if (box.value !== window.location.href) box.value = window.location.href;
  });
  update();
  if (window.asiShareLink) return;
  window.asiShareLink = true;
  for (const name of ["pushState", "replaceState"]) {
    const original = window.history[name];
    window.history[name] = function (...args) {
      const result = original.apply(this, args);
      update();
      return result;
    };
  }
  window.addEventListener("popstate", update);
  document.addEventListener("focusin", (event) => {
    if (event.target.matches && event.target.matches("input.asi-share-url")) {
      update();
      event.target.select();
    }
  });
  document.addEventListener("click", async (event) => {
    const button = event.target.closest ? event.target.closest("button.asi-share-copy") : null;
    if (!button) return;
    const holder = button.closest(".asi-share");
    const box = holder.querySelector("input.asi-share-url");
    const status = holder.querySelector(".asi-share-status");
    update();
    box.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(box.value);
      copied = true;
    } catch (error) {
      copied = document.execCommand && document.execCommand("copy");
    }
    status.textContent = copied ? "Link copied." : "Select the link and copy it with Ctrl+C (Cmd+C).";
  });
})();
"""


def script_hash(body: str = SHARE_LINK_SCRIPT) -> str:
    """The CSP source that allows exactly this inline script."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
