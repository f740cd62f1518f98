"""Starts the dashboard: `python serve.py [streamlit options]` is `streamlit run app.py [options]`
with `st.navigation` in app.py as the only router from the very first request.

Why a launcher: a folder named `pages/` beside the main script switches Streamlit (1.67) into its
legacy multipage mode until the first `st.navigation` call, so the first page run of a fresh
server is routed by the legacy router, which knows none of app.py's pages: a cold deep link
(a shared `/learn` or `/runs?runs=...` as the server's first request) gets a "Page not found"
notice, then the right page (streamlit/streamlit#8860, #9992; PR #10276 documents the
behaviour). Streamlit has no setting for it; this clears the one flag that turns it on before
the server starts, and refuses viewers' uploads from the first request on (pages/_server.py,
`guard_uploads`). Nothing else imports this module. tests/e2e/test_browser.py checks that a
cold deep link shows no notice.
"""

import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from pages._access import viewer_mode  # not pages._ui: its caches warn outside a server
from pages._server import guard_uploads

if __name__ == "__main__":
    PagesManager.uses_pages_directory = False  # what st.navigation sets on its first call
    guard_uploads(viewer_mode)  # viewer sessions' uploads refused from the server's first request
    sys.argv = ["streamlit", "run", "app.py", *sys.argv[1:]]
    sys.exit(cli.main())
