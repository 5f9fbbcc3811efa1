#!/usr/bin/env python3
"""`traces report --html` in a real browser: headless Chromium driven by Selenium over
reports of real-SDK dumps and of the injection fixture. The page loads with no console
error and no network request (Chrome's performance log sees none, and the CSP reports no
violation); the totals shown equal `traces cost --format json` (its raw number text);
clicking a sortable header reorders the rows; expanding a trace shows its tree; the
injection fixture opens no dialog and adds no element. A 1280x800 screenshot is kept.

Usage: report_test.py [TRACES_BINARY]  (default target/debug/traces)
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "target/debug/traces"
SDKS = ["oi", "langfuse", "catalyst", "agents-logfire", "aisdk4"]
SHOT = ROOT / "target/report-screenshot.png"
ENV = {**os.environ, "XDG_CONFIG_HOME": str(ROOT / "target/no-user-config")}
ENV.pop("TRACES_STORE", None)
ENV.pop("TRACES_PRICING", None)


def traces(*args):
    out = subprocess.run([str(BIN), "--store", "/nonexistent", *args], capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert out.returncode == 0, f"{args}: {out.stderr}"
    return out.stdout


def driver():
    o = webdriver.ChromeOptions()
    o.add_argument("--headless=new")
    o.add_argument("--no-sandbox")
    o.add_argument("--disable-dev-shm-usage")
    o.add_argument("--window-size=1280,800")
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    binary = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if Path(binary).exists():
        o.binary_location = binary
    drv = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    service = Service(drv) if Path(drv).exists() else Service()
    return webdriver.Chrome(options=o, service=service)


def requests_made(d):
    """URLs the page asked for beyond itself (file://), from the performance log."""
    urls = []
    for entry in d.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if not url.startswith("file://"):
                urls.append(url)
    return urls


def errors(d):
    return [e for e in d.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def no_alert(d):
    try:
        d.switch_to.alert
    except NoAlertPresentException:
        return
    raise AssertionError("a dialog opened")


def check_page(d, path, cost_json):
    d.get(path.as_uri())
    # A CSP violation is reported on the console too; this listener catches any late one.
    d.execute_script(
        "window.__csp=[];document.addEventListener('securitypolicyviolation',function(e){window.__csp.push(e.blockedURI)});"
    )
    time.sleep(0.3)
    assert errors(d) == [], errors(d)
    assert requests_made(d) == [], requests_made(d)
    assert d.execute_script("return window.__csp") == []
    total = json.loads(cost_json, parse_float=Decimal, parse_int=Decimal)["total"]
    cost = d.find_element(By.ID, "total-cost_usd")
    assert Decimal(cost.get_attribute("data-exact")) == total["cost_usd"], (cost.get_attribute("data-exact"), total["cost_usd"])
    # What a reader sees: the rounded dollars of the exact number.
    shown = Decimal(cost.text.lstrip("$").replace(",", ""))
    assert abs(shown - total["cost_usd"]) <= max(Decimal("0.005"), total["cost_usd"] * Decimal("0.01")), (cost.text, total["cost_usd"])
    for k in ["calls", "traces", "input_tokens", "output_tokens", "total_tokens"]:
        text = d.find_element(By.ID, f"total-{k}").text.replace(",", "")
        assert Decimal(text) == total[k], (k, text, total[k])


def sorting(d):
    table = d.find_element(By.ID, "by-model")
    rows = lambda: [r.find_elements(By.TAG_NAME, "td")[0].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    costs = lambda: [Decimal(r.find_elements(By.TAG_NAME, "td")[7].get_attribute("data-v")) for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    headers[0].click()  # by model, descending
    first = rows()
    assert first == sorted(first, reverse=True, key=str.lower) or first == sorted(first, reverse=True), first
    headers[0].click()  # ascending
    assert rows() == list(reversed(first)) or len(first) < 2, (rows(), first)
    headers[7].click()  # by cost, descending
    c = costs()
    assert c == sorted(c, reverse=True), c
    headers[7].click()
    assert costs() == sorted(c), costs()


def expanding(d):
    t = d.find_elements(By.CSS_SELECTOR, "details.trace")[0]
    tree = t.find_element(By.CSS_SELECTOR, "table.tree")
    assert not tree.is_displayed()
    t.find_element(By.TAG_NAME, "summary").click()
    assert tree.is_displayed()
    assert len(tree.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 1
    assert tree.find_elements(By.CSS_SELECTOR, ".bar span")
    d.find_element(By.ID, "expand-all").click()
    assert all(x.get_attribute("open") is not None for x in d.find_elements(By.CSS_SELECTOR, "details.trace"))


def main():
    started = time.time()
    work = Path(tempfile.mkdtemp())
    d = driver()
    try:
        for sdk in SDKS:
            dump = str(ROOT / "testdata/llm" / sdk)
            page = work / f"{sdk}.html"
            traces("report", "--html", str(page), dump)
            check_page(d, page, traces("cost", "--format", "json", dump))
            sorting(d)
            expanding(d)
            no_alert(d)
            print(f"ok  {sdk}")
        # Injection: no dialog, no element made of the payloads, the text shown.
        fixture = str(ROOT / "testdata/report/injection.otlp.json")
        page = work / "injection.html"
        traces("report", "--html", str(page), fixture)
        check_page(d, page, traces("cost", "--format", "json", fixture))
        d.find_element(By.ID, "expand-all").click()
        time.sleep(0.2)
        no_alert(d)
        assert d.find_elements(By.TAG_NAME, "img") == []
        assert d.find_elements(By.CSS_SELECTOR, "a[href^='javascript']") == []
        assert len(d.find_elements(By.TAG_NAME, "script")) == 1
        body = d.find_element(By.TAG_NAME, "body").text
        assert "<script>alert(1)</script> agent" in body
        assert "<img src=x onerror=alert(13)>" in body
        assert errors(d) == [], errors(d)
        print("ok  injection")
        # The screenshot: the report of several SDKs' dumps, as the README shows it.
        page = work / "all.html"
        traces("report", "--html", str(page), *[f"testdata/llm/{s}" for s in SDKS])
        d.set_window_size(1280, 800)
        d.get(page.as_uri())
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        d.save_screenshot(str(SHOT))
        print(f"screenshot: {SHOT}")
    finally:
        d.quit()
    print(f"browser test passed in {time.time() - started:.1f}s")


if __name__ == "__main__":
    main()
