#!/usr/bin/env python3
"""Extracts Exact Online's documented properties per REST endpoint from the public
`picqer/exact-php-client` models (one PHP class per entity: `protected $url` is the endpoint,
each `@property TYPE $Name` in its docblock a documented field, copied from Exact's REST API
reference), for the endpoints the sandbox serves or is to serve.

    python3 src/sandbox/documented/extract.py PICQER_CHECKOUT > src/sandbox/documented/fields.tsv

PICQER_CHECKOUT is a clone of picqer/exact-php-client (a bare git directory works too: files are
read from HEAD). Not run in CI (CI has no GitHub): its output is checked in. Output lines are
`endpoint<TAB>property<TAB>type`, type as picqer writes it (`string`, `int`, `float`, `bool`,
or `Entity[]` for a navigation collection); `#` lines say where the list comes from.
"""

import re
import subprocess
import sys
from pathlib import Path

# Endpoints served by the sandbox, then those issue #14 asks it to serve.
ENDPOINTS = [
    "crm/Accounts", "crm/Contacts", "crm/Addresses",
    "salesinvoice/SalesInvoices", "salesinvoice/SalesInvoiceLines",
    "salesentry/SalesEntries", "salesentry/SalesEntryLines",
    "purchaseentry/PurchaseEntries", "purchaseentry/PurchaseEntryLines",
    "purchase/PurchaseInvoices",
    "financial/GLAccounts", "financialtransaction/TransactionLines",
    "generaljournalentry/GeneralJournalEntries", "generaljournalentry/GeneralJournalEntryLines",
    "read/financial/ReceivablesList", "read/financial/PayablesList",
    "vat/VATCodes", "financial/ReportingBalance", "financial/Journals",
    "financial/GLAccountClassificationMappings", "system/Divisions",
    "bulk/CRM/Accounts", "bulk/CRM/Contacts", "bulk/Financial/GLAccounts",
    "bulk/Financial/TransactionLines", "bulk/SalesInvoice/SalesInvoices",
    "bulk/SalesInvoice/SalesInvoiceLines", "bulk/Cashflow/Receivables", "bulk/Cashflow/Payments",
    "sync/CRM/Accounts", "sync/CRM/Contacts", "sync/CRM/Addresses", "sync/Financial/GLAccounts",
    "sync/Financial/TransactionLines", "sync/SalesInvoice/SalesInvoices",
    "sync/Cashflow/PaymentTerms", "sync/Deleted", "sync/Documents/Documents",
    "sync/Financial/GLClassifications", "sync/Logistics/Items",
    "cashflow/Receivables", "cashflow/Payments", "cashflow/PaymentConditions",
    "crm/Quotations", "salesorder/SalesOrders", "documents/Documents", "logistics/Items",
]
MODELS = "src/Picqer/Financials/Exact"
PROPERTY = re.compile(r"^\s*\*\s*@property\s+(\S+)\s+\$(\w+)")
URL = re.compile(r"protected\s+\$url\s*=\s*'([^']+)'")
# `bulk/…` models document nothing themselves: `class BulkAccount extends Account` inherits.
EXTENDS = re.compile(r"class\s+\w+\s+extends\s+(\w+)")


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True,
                          text=True).stdout


def main(repo):
    commit = git(repo, "rev-parse", "HEAD").strip()
    names = [n for n in git(repo, "ls-tree", "--name-only", f"HEAD:{MODELS}").split()
             if n.endswith(".php")]
    texts = {name: git(repo, "show", f"HEAD:{MODELS}/{name}") for name in names}

    def properties(name):
        text = texts.get(name, "")
        props = [m.groups() for m in map(PROPERTY.match, text.splitlines()) if m]
        parent = EXTENDS.search(text)
        if not props and parent and parent.group(1) != "Model":
            return properties(parent.group(1) + ".php")
        return props

    by_url = {}
    for name, text in texts.items():
        url = URL.search(text)
        if url and url.group(1) in ENDPOINTS and url.group(1) not in by_url:
            by_url[url.group(1)] = (name, properties(name))
    print("# Exact Online's documented properties per endpoint, from picqer/exact-php-client")
    print(f"# commit {commit}, {MODELS}/*.php (docblock @property lines),")
    print("# written by src/sandbox/documented/extract.py: do not edit by hand.")
    for endpoint in ENDPOINTS:
        if endpoint not in by_url:
            print(f"# {endpoint}: no model in picqer")
            continue
        name, props = by_url[endpoint]
        print(f"# {endpoint}: {name}")
        for php_type, prop in props:
            print(f"{endpoint}\t{prop}\t{php_type}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
