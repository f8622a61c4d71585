"""Real-browser check of a widget notebook.

Starts JupyterLab headless, opens the notebook in Debian's Chromium (driven by Playwright),
runs all cells, moves one control (dropdown, slider or text box) and checks that the output
next to it redraws. Screenshots before and after the move are saved. Then it chooses a second
option (--then-option, default the gate explorer's heatmap) in whichever dropdown of the cell
offers it, checks that the output redraws again and saves a third screenshot.

    python scripts/browser_check.py notebooks/10_gate_explorer.ipynb

Exit status: 0 passed, 1 check failed, 77 cannot run here (no Chromium or no Playwright),
so CI can treat 77 as "skipped".
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
EXIT_FAILED, EXIT_SKIP = 1, 77
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
# JupyterLab user settings for this throwaway session (a fresh settings dir, so nothing of the
# user's own JupyterLab set-up leaks in)
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},  # never write the notebook
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},  # every cell in the DOM
}
# JS: the open notebook panel whose path is `path`
FIND_PANEL_JS = """(path) => Array.from(window.jupyterapp.shell.widgets('main'))
    .find(w => w.context && w.context.path === path && w.sessionContext)"""
# JS: a fingerprint of what the outputs show (text, images, SVG, canvases), leaving out the
# moved control's own widget (its label, its slider read-out) so only a real redraw counts
SIGNATURE_JS = """(control, scope) => {
    const own = control.closest('.widget-inline-hbox, .widget-inline-vbox') || control;
    const parts = [];
    const walk = (node) => {
        if (node === own) return;
        if (node.nodeType === Node.TEXT_NODE) { parts.push(node.textContent); return; }
        if (node.nodeType !== Node.ELEMENT_NODE) return;
        const tag = node.tagName.toLowerCase();
        if (tag === 'img') parts.push(node.src);
        if (tag === 'svg') { parts.push(node.outerHTML); return; }
        if (tag === 'canvas') { try { parts.push(node.toDataURL()); } catch (e) {} }
        node.childNodes.forEach(walk);
    };
    scope.querySelectorAll('.jp-Cell-outputArea').forEach(walk);
    return parts.join('\\n');
}"""


class CheckFailed(Exception):
    pass


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", nargs="?", type=Path, default=REPO_ROOT / "notebooks/10_gate_explorer.ipynb")
    parser.add_argument("--cell-id", default="browser-check",
                        help="id of the cell whose widget is moved and whose output must change "
                             "(default: %(default)s; '' = the whole notebook)")
    parser.add_argument("--selector", default=".widget-dropdown select",
                        help="CSS selector of the control, first match in the cell (default: %(default)s); "
                             "a <select> gets --option chosen, an <input> gets --option typed then Enter, "
                             "anything else (e.g. '.widget-slider .noUi-handle') gets focused and --key pressed")
    parser.add_argument("--option", help="option label to choose, or text to type (default for a "
                                         "<select>: the first option that is not selected)")
    parser.add_argument("--key", default="ArrowRight", help="key pressed on other controls (default: %(default)s)")
    parser.add_argument("--before", type=Path, default=REPO_ROOT / "runs/browser-check/before.png")
    parser.add_argument("--after", type=Path, default=REPO_ROOT / "runs/browser-check/after.png")
    parser.add_argument("--then-option", default="heatmap: tokens × channels",
                        help="after the first move, choose this option in the first dropdown of the cell that "
                             "offers it; the output must change again ('' = no second move; default: %(default)s)")
    parser.add_argument("--then-screenshot", type=Path, default=REPO_ROOT / "runs/browser-check/heatmap.png",
                        help="screenshot after the second move (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds for start-up and Run All (default: %(default)s)")
    parser.add_argument("--change-timeout", type=float, default=60,
                        help="seconds for the output to change after the move (default: %(default)s)")
    parser.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"))
    return parser.parse_args()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """A headless JupyterLab server on a free localhost port, shut down on exit."""

    def __init__(self, root_dir, workdir, timeout):
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{free_port()}"
        settings_dir = workdir / "lab-settings"
        for plugin, values in LAB_SETTINGS.items():
            path = settings_dir / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        port = urllib.parse.urlsplit(self.url).port
        command = [
            sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser",
            f"--ServerApp.token={self.token}", "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root_dir}", "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={settings_dir}", f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
            f"--FileCheckpoints.checkpoint_dir={workdir / 'checkpoints'}",  # no .ipynb_checkpoints litter
        ]
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(workdir / "runtime"))
        env.pop("MPLBACKEND", None)  # the kernel draws figures inline, as for a user (Agg would show only text)
        self.log_path = workdir / "jupyter.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        self.wait_ready(timeout)

    def request(self, method, path):
        request = urllib.request.Request(self.url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CheckFailed(f"jupyter lab exited with status {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.request("GET", "/api/status") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise CheckFailed(f"jupyter lab did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines=20):
        self.log.flush()
        return "\n".join(self.log_path.read_text().splitlines()[-lines:])

    def close(self):
        """Shut down kernels and server through the API; signal the process group if that fails."""
        try:
            self.request("POST", "/api/shutdown")
            self.process.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if self.process.poll() is None:
                    os.killpg(self.process.pid, sig)
                    try:
                        self.process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        pass
        self.log.close()


def waiting(description, timeout_s, wait, *args, **kwargs):
    """Call a Playwright wait with a timeout, turning its TimeoutError into a clear CheckFailed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        return wait(*args, timeout=timeout_s * 1000, **kwargs)
    except PlaywrightTimeout:
        raise CheckFailed(f"timed out after {timeout_s:.0f}s waiting for {description}") from None


def wait_kernel_idle(page, path, timeout_s):
    waiting("the kernel to be idle", timeout_s, page.wait_for_function,
            f"(path) => ({FIND_PANEL_JS})(path).sessionContext.session?.kernel?.status === 'idle'", arg=path)


def run_all_cells(page, path, timeout_s):
    """Open the kernel, run every cell via JupyterLab's Run All command; fail on an error output."""
    waiting("JupyterLab to open the notebook", timeout_s, page.wait_for_function,
            f"(path) => window.jupyterapp && ({FIND_PANEL_JS})(path)", arg=path)
    kernel = page.evaluate(f"""async (path) => {{
        const panel = ({FIND_PANEL_JS})(path);
        await panel.context.ready;
        await panel.sessionContext.ready;
        return panel.sessionContext.session?.kernel?.name ?? null;
    }}""", path)
    if kernel is None:
        raise CheckFailed("the notebook opened without a kernel (is its kernelspec installed?)")
    wait_kernel_idle(page, path, timeout_s)
    finished = page.evaluate(f"""async ([path, timeoutMs]) => {{
        const panel = ({FIND_PANEL_JS})(path);
        window.jupyterapp.shell.activateById(panel.id);
        const timer = new Promise(resolve => setTimeout(() => resolve('timeout'), timeoutMs));
        return await Promise.race([window.jupyterapp.commands.execute('notebook:run-all-cells'), timer]);
    }}""", [path, timeout_s * 1000])
    if finished == "timeout":
        raise CheckFailed(f"Run All Cells did not finish within {timeout_s:.0f}s")
    errors = page.evaluate(f"""(path) => ({FIND_PANEL_JS})(path).content.widgets.flatMap((cell, i) =>
        cell.model.type !== 'code' ? [] : cell.model.outputs.toJSON()
            .filter(o => o.output_type === 'error').map(o => `cell ${{i}}: ${{o.ename}}: ${{o.evalue}}`))""", path)
    if errors or finished is not True:
        raise CheckFailed("Run All Cells stopped on an error: " + ("; ".join(errors) or "(no error output)"))
    wait_kernel_idle(page, path, timeout_s)


def target_scope(page, path, cell_id):
    """Locator for the cell with `cell_id` (the whole notebook when cell_id is '')."""
    found = page.evaluate(f"""([path, cellId]) => {{
        const notebook = ({FIND_PANEL_JS})(path).content;
        const cell = cellId ? notebook.widgets.find(c => c.model.id === cellId) : null;
        if (cellId && !cell) return false;
        (cell ?? notebook).node.setAttribute('data-browser-check-scope', '');
        return true;
    }}""", [path, cell_id])
    if not found:
        raise CheckFailed(f"the notebook has no cell with id {cell_id!r} (pass --cell-id '' to search every cell)")
    return page.locator("[data-browser-check-scope]")


def move_control(control, option, key):
    """Change the control like a user would; returns a description of the move."""
    tag = control.evaluate("e => e.tagName.toLowerCase()")
    if tag == "select":
        # ipywidgets renders the spaces of option labels as no-break spaces (U+00A0): compare plain text
        labels, current = control.evaluate("""s => [Array.from(s.options).map(o => o.label.replace(/\\u00a0/g, ' ')),
                                                   s.selectedOptions[0]?.label.replace(/\\u00a0/g, ' ')]""")
        if option is None:
            option = next((label for label in labels if label != current), None)
            if option is None:
                raise CheckFailed(f"the dropdown has no option other than {current!r} to choose")
        elif option not in labels:
            raise CheckFailed(f"the dropdown has no option {option!r}; it offers {labels}")
        control.select_option(index=labels.index(option))
        return f"dropdown {current!r} -> {option!r}"
    if tag in ("input", "textarea"):
        if option is None:
            raise CheckFailed(f"the control is an <{tag}>: pass --option with the text to type")
        control.fill(option)
        control.press("Enter")
        return f"typed {option!r}"
    control.focus()
    control.press(key)
    return f"pressed {key} on <{tag}>"


def dropdown_offering(scope, option):
    """Locator for the first dropdown in `scope` with an option labelled `option`."""
    index = scope.evaluate("""(scope, option) => Array.from(scope.querySelectorAll('.widget-dropdown select'))
        .findIndex(s => Array.from(s.options).some(o => o.label.replace(/\\u00a0/g, ' ') === option))""", option)
    if index < 0:
        raise CheckFailed(f"no dropdown in the cell offers the option {option!r}")
    return scope.locator(".widget-dropdown select").nth(index)


def move_and_check(page, path, control, scope, option, key, timeout_s, log):
    """Move the control, wait for the outputs to change and settle, and for the kernel to be idle;
    then check that no figure shows as mere text ('<Figure size 1100x380 with 2 Axes>')."""
    before = output_signature(control, scope)
    move = move_control(control, option, key)
    log(f"moved the control: {move}")
    wait_output_changed(page, control, scope, before, timeout_s)
    wait_kernel_idle(page, path, timeout_s)
    if any("<Figure size" in text for text in scope.locator(".jp-Cell-outputArea").all_inner_texts()):
        raise CheckFailed("a figure shows as text, not as an image: the kernel's matplotlib backend draws "
                          "nothing inline (is MPLBACKEND set for it?)")


def output_signature(control, scope):
    return control.evaluate(SIGNATURE_JS, scope.element_handle())


def wait_output_changed(page, control, scope, before, timeout_s):
    """Wait for the outputs to differ from `before`, then to stay unchanged for a second."""
    waiting("the output to change after the move", timeout_s, page.wait_for_function,
            f"([control, scope, before]) => ({SIGNATURE_JS})(control, scope) !== before",
            arg=[control.element_handle(), scope.element_handle(), before])
    deadline = time.monotonic() + timeout_s
    previous = output_signature(control, scope)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        current = output_signature(control, scope)
        if current == previous:
            return
        previous = current
    raise CheckFailed(f"the output kept changing for {timeout_s:.0f}s after the move")


def screenshot(page, control, path):
    """Screenshot of the window with the control's cell scrolled to the top."""
    control.evaluate("e => (e.closest('.jp-Cell') ?? e).scrollIntoView({block: 'start'})")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def launch_chromium(playwright, executable, profile_dir):
    """Headless Chromium with a fresh profile (--user-data-dir), as a Playwright browser context."""
    from playwright.sync_api import Error as PlaywrightError
    try:
        return playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=str(executable), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000})
    except PlaywrightError as error:
        raise CheckFailed(f"Chromium at {executable} failed to start: {error}") from None


def check(args, sync_playwright):
    notebook = args.notebook.resolve()
    if not notebook.is_file():
        raise CheckFailed(f"notebook not found: {notebook}")
    root_dir = REPO_ROOT if notebook.is_relative_to(REPO_ROOT) else notebook.parent
    path = notebook.relative_to(root_dir).as_posix()
    start = time.monotonic()

    def log(message):
        print(f"browser_check: [{time.monotonic() - start:5.1f}s] {message}", flush=True)

    with tempfile.TemporaryDirectory(prefix="browser_check_") as workdir:
        workdir = Path(workdir)
        server = JupyterLab(root_dir, workdir, args.timeout)
        page_errors = []
        try:
            log(f"jupyter lab at {server.url} (root {root_dir})")
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright, args.chromium, workdir / "chromium-profile")
                try:
                    page = browser.pages[0] if browser.pages else browser.new_page()
                    page.on("pageerror", lambda error: page_errors.append(str(error)))
                    page.goto(f"{server.url}/lab/tree/{urllib.parse.quote(path)}?token={server.token}")
                    run_all_cells(page, path, args.timeout)
                    log(f"ran all cells of {path}")

                    scope = target_scope(page, path, args.cell_id)
                    where = f"cell {args.cell_id!r}" if args.cell_id else "the notebook"
                    waiting(f"a widget (.jupyter-widgets) to render in {where}", args.change_timeout,
                            scope.locator(".jupyter-widgets").first.wait_for, state="visible")
                    control = scope.locator(args.selector).first
                    waiting(f"a visible control matching {args.selector!r} in {where}", args.change_timeout,
                            control.wait_for, state="visible")
                    screenshot(page, control, args.before)
                    move_and_check(page, path, control, scope, args.option, args.key, args.change_timeout, log)
                    screenshot(page, control, args.after)
                    log(f"output changed; screenshots {args.before} and {args.after}")
                    if args.then_option:
                        second = dropdown_offering(scope, args.then_option)
                        move_and_check(page, path, second, scope, args.then_option, args.key,
                                       args.change_timeout, log)
                        screenshot(page, second, args.then_screenshot)
                        log(f"output changed again; screenshot {args.then_screenshot}")
                finally:
                    browser.close()
        except CheckFailed:
            if page_errors:
                print("browser_check: page errors:\n  " + "\n  ".join(page_errors), file=sys.stderr)
            raise
        finally:
            server.close()
    log("passed, jupyter lab shut down")


def main():
    args = parse_args()
    if not args.chromium.is_file():
        print(f"browser_check: SKIP: Chromium not found at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return EXIT_SKIP
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser_check: SKIP: Playwright is not installed (pip install playwright)", file=sys.stderr)
        return EXIT_SKIP
    try:
        check(args, sync_playwright)
    except CheckFailed as failure:
        print(f"browser_check: FAIL: {failure}", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
