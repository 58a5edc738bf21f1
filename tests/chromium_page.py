"""What a reader of an HTML file sees in headless Chromium, through the DevTools protocol
(websocket-client): the page is loaded from a file URL, measured by expressions the test evaluates
in it (the page itself carries no script), and captured as full-page PNG screenshots."""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*")


def chromium_binary() -> str | None:
    return next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


class Page:
    """One headless Chromium with a fresh profile and one page; a context manager."""

    def __init__(self, binary: str, width: int = 1280, height: int = 1000, timeout: float = 60.0):
        import websocket                       # websocket-client
        self._profile = tempfile.mkdtemp(prefix="report-chromium-")
        self._proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self._profile}",
                                       f"--window-size={width},{height}", "about:blank"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = self._devtools_port(timeout)
        target = self._page_target(port, timeout)
        self._ws = websocket.create_connection(target, timeout=timeout)
        self._id = 0
        self.width = width

    def _devtools_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        port_file = Path(self._profile) / "DevToolsActivePort"
        while time.monotonic() < deadline:
            if port_file.exists() and port_file.read_text().strip():
                return int(port_file.read_text().split()[0])
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited: {self._proc.stderr.read()[-2000:]}")
            time.sleep(0.1)
        raise TimeoutError("chromium wrote no DevToolsActivePort")

    @staticmethod
    def _page_target(port: int, timeout: float) -> str:
        from urllib.request import urlopen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            targets = json.loads(urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout).read())
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise TimeoutError("chromium has no page target")

    def call(self, method: str, **params):
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str, timeout: float = 60.0) -> None:
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while self.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            time.sleep(0.1)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshots(self, folder: Path, stem: str, slice_height: int = 4000) -> list[Path]:
        """The whole page as PNGs, top to bottom in slices of ``slice_height`` CSS pixels."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for k, top in enumerate(range(0, height, slice_height)):
            clip = {"x": 0, "y": top, "width": self.width, "height": min(slice_height, height - top), "scale": 1}
            data = self.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)["data"]
            path = folder / f"{stem}-{k:02d}.png"
            path.write_bytes(base64.b64decode(data))
            paths.append(path)
        return paths

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self._ws.close()
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            shutil.rmtree(self._profile, ignore_errors=True)


def visible_text(page: Page) -> str:
    return page.evaluate("document.body.innerText")


RAW_TEX = re.compile(r"\$\$|\\frac|\\left|\\mathbb")
