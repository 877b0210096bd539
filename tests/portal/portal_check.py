"""Drives the portal in headless Debian Chromium as a tenant admin would, run by tests/portal.rs.

Usage: portal_check.py BASE_URL API_KEY NL_CLIENT_ID NL_CLIENT_SECRET SCREENSHOT_DIR
Exits non-zero (with the assertion) on the first thing that is not as an admin should see it.
"""

import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, api_key, client_id, client_secret, shots = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("LEDGERLINE_CHROMIUM", "/usr/bin/chromium")
for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
    options.add_argument(flag)
service = Service(os.environ.get("LEDGERLINE_CHROMEDRIVER", "/usr/bin/chromedriver"))
driver = webdriver.Chrome(service=service, options=options)
wait = WebDriverWait(driver, 20)


def shot(name):
    # The whole page, not only the window: set the window as tall as the document.
    # (The window's size includes the browser's own frame: leave room for it, and start at the top.)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(height + 160, 800))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(os.path.join(shots, f"{name}.png"))
    driver.set_window_size(1280, 1000)


def text():
    return driver.find_element(By.TAG_NAME, "body").text


def title_and_labels():
    """Every page has a <title>, and every visible input a <label>."""
    assert driver.title.strip(), f"no <title> on {driver.current_url}"
    for field in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select"):
        fid = field.get_attribute("id")
        assert fid and driver.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']"), (
            f"an input without a label on {driver.current_url}: {field.get_attribute('outerHTML')}"
        )


try:
    # Sign in: /portal sends a stranger to the sign-in page; a wrong key says so.
    driver.get(f"{base}/portal")
    wait.until(EC.presence_of_element_located((By.ID, "apiKey")))
    title_and_labels()
    shot("01-sign-in")
    driver.find_element(By.ID, "apiKey").send_keys("ll_wrong")
    driver.find_element(By.ID, "apiKey").submit()
    wait.until(EC.presence_of_element_located((By.ID, "apiKey-error")))
    assert "incorrect" in text(), text()
    driver.find_element(By.ID, "apiKey").send_keys(api_key)
    driver.find_element(By.ID, "apiKey").submit()
    wait.until(EC.url_contains("/portal/integrations"))
    cookie = driver.get_cookie("ledgerline_portal")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie

    # Integrations: both regions, missing credentials, the redirect URL and scopes.
    body = text()
    assert "Exact (Netherlands)" in body and "Exact (UK)" in body, body
    assert body.count("Missing credentials") == 2, body
    redirect = driver.find_element(By.ID, "exact-online-nl-redirect").get_attribute("value")
    assert redirect == f"{base}/oauth/callback", redirect
    title_and_labels()
    shot("02-integrations")

    # A pasted trailing space is refused next to the field, with the API's words.
    driver.find_element(By.ID, "exact-online-nl-clientId").send_keys(client_id)
    driver.find_element(By.ID, "exact-online-nl-clientSecret").send_keys(client_secret + " ")
    driver.find_element(By.ID, "exact-online-nl-clientSecret").submit()
    error = wait.until(EC.presence_of_element_located((By.ID, "exact-online-nl-clientSecret-error")))
    assert "whitespace at the start or end" in error.text, error.text
    assert driver.find_element(By.ID, "exact-online-nl-clientId").get_attribute("value") == client_id
    shot("03-integrations-field-error")

    # The right secret, enabled now: NL is On, the secret shows only as a hint.
    driver.find_element(By.ID, "exact-online-nl-clientSecret").send_keys(client_secret)
    driver.find_element(By.ID, "exact-online-nl-enableNow").click()
    driver.find_element(By.ID, "exact-online-nl-clientSecret").submit()
    wait.until(EC.url_contains("notice=saved"))
    state = driver.find_element(By.CSS_SELECTOR, "#exact-online-nl-title .badge")
    assert state.text == "On", state.text
    assert client_secret not in driver.page_source, "the secret came back"
    assert "A secret is set" in text()

    # Companies: create one; a blank name gets the API's message first.
    driver.find_element(By.LINK_TEXT, "Companies").click()
    wait.until(EC.presence_of_element_located((By.ID, "company-name")))
    title_and_labels()
    driver.find_element(By.ID, "company-name").send_keys("   ")
    driver.find_element(By.ID, "company-name").submit()
    error = wait.until(EC.presence_of_element_located((By.ID, "company-name-error")))
    assert "must not be empty" in error.text, error.text
    driver.find_element(By.ID, "company-name").clear()
    driver.find_element(By.ID, "company-name").send_keys("Browser Bakery BV")
    driver.find_element(By.ID, "company-name").submit()
    wait.until(EC.url_contains("notice=company-created"))
    company_url = driver.current_url.split("?")[0]

    # Connect it to Exact NL: PendingAuth with a link URL to copy.
    driver.find_element(By.XPATH, "//button[text()='Add connection']").click()
    wait.until(EC.url_contains("notice=connection-created"))
    card = driver.find_element(By.CSS_SELECTOR, "section.connection")
    assert card.get_attribute("data-status") == "PendingAuth", card.text
    link = card.find_element(By.CSS_SELECTOR, "input[id^=link-]").get_attribute("value")
    assert "/link/connections/" in link, link
    title_and_labels()
    shot("04-company-pending")

    # The end customer follows the link and first refuses at the sandbox, as `demo`: the
    # result page says so under the tenant's name, with the integration's wordmark, and a
    # reload shows the same (the callback answered 303 to it; nothing is recorded again).
    def consent(action):
        driver.get(link)
        wait.until(EC.presence_of_element_located((By.NAME, "username"))).send_keys("demo")
        driver.find_element(By.NAME, "password").send_keys("demo")
        driver.find_element(By.NAME, "password").submit()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"button[value={action}]"))).click()

    def result_page(says):
        wait.until(EC.url_contains("/link/result?state="))
        body = text()
        assert says in body, body
        assert "Browser SaaS" in body and "What to do next" in body, body
        assert driver.find_elements(By.CSS_SELECTOR, "header.brand svg.wordmark"), "no wordmark"
        assert driver.title.endswith("Browser SaaS"), driver.title
        driver.refresh()
        assert text() == body, "a reload shows another page"
        return body

    consent("deny")
    result_page("You chose not to give Browser SaaS access")
    shot("05-link-refused")
    consent("approve")
    result_page("You are connected")
    shot("06-link-connected")

    # Back in the portal: Linked, with its division.
    driver.get(company_url)
    card = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.connection")))
    assert card.get_attribute("data-status") == "Linked", card.text
    assert "Division" in card.text and "known once linked" not in card.text, card.text
    driver.find_element(By.XPATH, "//button[starts-with(text(), 'Queue a pull')]").click()
    wait.until(EC.url_contains("notice=pull-queued"))

    # Exact's limits as pictures: once the pull has made calls, the minute plot draws bars;
    # the pull history is a timeline of finished pulls.
    for _ in range(60):
        driver.get(company_url)
        if driver.find_elements(By.CSS_SELECTOR, "svg[id^=minutes-] rect.bar") and driver.find_elements(
            By.CSS_SELECTOR, "svg[id^=pulls-] g.pull.ok"
        ) and not driver.find_elements(By.CSS_SELECTOR, "svg[id^=pulls-] g.pull.running"):
            break
        time.sleep(0.5)
    plot = driver.find_element(By.CSS_SELECTOR, "svg[id^=minutes-]")
    assert plot.find_elements(By.CSS_SELECTOR, "rect.bar"), "no bars in the minute plot"
    assert driver.find_elements(By.CSS_SELECTOR, "svg[id^=days-] rect.bar"), "no bars in the day plot"
    bars = driver.find_elements(By.CSS_SELECTOR, "svg[id^=pulls-] g.pull")
    assert len(bars) >= 8, f"{len(bars)} pulls in the timeline"
    assert not driver.find_elements(By.CSS_SELECTOR, "svg[id^=pulls-] g.pull.failed"), "a pull failed"

    # The timeline with the keyboard: Tab reaches a pull's bar, which says what it was.
    driver.execute_script("arguments[0].focus()", driver.find_element(By.XPATH, "//button[starts-with(text(), 'Queue a pull')]"))
    label = None
    for _ in range(80):
        driver.switch_to.active_element.send_keys("\t")
        active = driver.switch_to.active_element
        if active.tag_name == "g" and "pull" in (active.get_attribute("class") or ""):
            label = active.get_attribute("aria-label")
            break
    assert label and ": Complete, requested " in label and "Exact calls" in label, label
    # The same facts as a table, for those who do not see the picture.
    driver.find_element(By.XPATH, "//summary[text()='The pulls as a table']").click()
    rows = driver.find_elements(By.CSS_SELECTOR, "figure.timeline details tbody tr")
    assert len(rows) == len(bars), (len(rows), len(bars))
    shot("07-company-linked")

    # The list finds it by name, and not by another.
    driver.get(f"{base}/portal/companies?search=bakery")
    assert "Browser Bakery BV" in text() and "Linked" in text(), text()
    shot("08-companies")
    driver.get(f"{base}/portal/companies?search=nothing-like-it")
    assert "Browser Bakery BV" not in text() and "No companies match" in text()

    # Back to the app after linking: a return URL that is no http(s) URL is refused next to its
    # field; a good one (here the portal's own company page) is where the next customer lands,
    # with Codat's statusCode.
    driver.get(f"{base}/portal/integrations")
    field = wait.until(EC.presence_of_element_located((By.ID, "linkReturnUrl")))
    field.send_keys("ftp://example.com/done")
    field.submit()
    error = wait.until(EC.presence_of_element_located((By.ID, "linkReturnUrl-error")))
    assert "https://" in error.text, error.text
    field = driver.find_element(By.ID, "linkReturnUrl")
    field.clear()
    field.send_keys(base + "/portal/companies/{companyId}?connection={connectionId}")
    field.submit()
    wait.until(EC.url_contains("notice=return-url-saved"))
    title_and_labels()
    shot("09-integrations-return-url")
    driver.get(f"{base}/portal/companies")
    driver.find_element(By.ID, "company-name").send_keys("Returning Dairy BV")
    driver.find_element(By.ID, "company-name").submit()
    wait.until(EC.url_contains("notice=company-created"))
    second_url = driver.current_url.split("?")[0]
    driver.find_element(By.XPATH, "//button[text()='Add connection']").click()
    wait.until(EC.url_contains("notice=connection-created"))
    link = driver.find_element(By.CSS_SELECTOR, "section.connection input[id^=link-]").get_attribute("value")
    connection_id = link.rsplit("/", 1)[1]
    consent("approve")
    wait.until(EC.url_contains("statusCode="))
    assert driver.current_url == f"{second_url}?connection={connection_id}&statusCode=200", driver.current_url
    card = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.connection")))
    assert card.get_attribute("data-status") == "Linked", card.text

    # Keyboard: Tab from the top reaches the navigation's links.
    driver.get(f"{base}/portal/integrations")
    body = driver.find_element(By.TAG_NAME, "body")
    reached = []
    for _ in range(4):
        driver.switch_to.active_element.send_keys("\t") if reached else body.send_keys("\t")
        reached.append(driver.switch_to.active_element.text)
    assert "Integrations" in reached and "Companies" in reached, reached

    # Sign out: the portal asks for the key again.
    driver.find_element(By.XPATH, "//button[text()='Sign out']").click()
    wait.until(EC.url_contains("/portal/sign-in"))
    driver.get(f"{base}/portal/companies")
    wait.until(EC.url_contains("/portal/sign-in"))
    print("portal check passed")
finally:
    driver.quit()
