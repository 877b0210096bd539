"""Codat's `codat-accounting` SDK against a Ledgerline server: invoices, credit notes, customers,
suppliers, bills and journal entries (paging, query, orderBy, one by id) and what 400/401/404/409
look like through the SDK.

    python check_accounting.py --url http://127.0.0.1:8080 --key ll_... \
        --unpulled <companyId> [--invoices --pulled <companyId> --pulled <companyId>]

`--unpulled` is a company whose invoices were never pulled (reads answer 409). `--invoices` runs
the invoice and credit note reads against each `--pulled` company (pulled, some invoices unpaid,
some credit left); without it they are reported as skipped. `--accounts` runs the chart of
accounts and company info reads against each `--pulled` company.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pydantic

from codat_accounting import CodatAccounting, utils
from codat_accounting.models import errors, shared

from sdkcheck import CheckFailed, Report, arguments, basic_auth_header, expect, expect_error_message, no_retries

PAGE_SIZE = 50


def main() -> None:
    args = arguments(
        __doc__.splitlines()[0],
        lambda p: (
            p.add_argument("--unpulled", required=True, help="a company whose invoices were never pulled"),
            p.add_argument("--pulled", action="append", default=[], help="a company with pulled invoices"),
            p.add_argument("--invoices", action="store_true", help="the invoice endpoints serve data: check them"),
            p.add_argument("--accounts", action="store_true", help="check the chart of accounts and company info"),
        ),
    )
    sdk = CodatAccounting(
        security=shared.Security(auth_header=basic_auth_header(args.key)),
        server_url=args.url,
        retry_config=no_retries(utils),
        timeout_ms=30_000,
    )
    report = Report(f"codat-accounting against {args.url}")
    error_shapes(report, sdk, args.url, args.unpulled)
    if args.invoices:
        if not args.pulled:
            report.check("invoices", lambda: expect(False, "--invoices needs at least one --pulled company"))
        for company_id in args.pulled:
            invoices(report, sdk, company_id)
            credit_notes(report, sdk, company_id)
            relations(report, sdk, company_id, "customers", "customer", "customer_name")
            relations(report, sdk, company_id, "suppliers", "supplier", "supplier_name")
            bills(report, sdk, company_id)
            journal_entries(report, sdk, company_id)
    else:
        report.skip(
            "invoices.list/get (paging, query, orderBy, by id)",
            "the invoice endpoints are off for this run (INVOICE_ENDPOINTS_EXIST = false in tests/sdk.rs)",
        )
    if args.accounts:
        for company_id in args.pulled:
            accounts(report, sdk, company_id)
            company_info(report, sdk, company_id)
    report.finish()


def error_shapes(report: Report, sdk: CodatAccounting, url: str, unpulled: str) -> None:
    missing = str(uuid.uuid4())
    report.check(
        "invoices.list unknown company → 404",
        lambda: expect_error_message(lambda: sdk.invoices.list(request={"company_id": missing}), 404, errors.ErrorMessage),
    )
    report.check(
        "invoices.list before any pull → 409",
        lambda: expect_error_message(lambda: sdk.invoices.list(request={"company_id": unpulled}), 409, errors.ErrorMessage),
    )
    report.check(
        "invoices.get before any pull → 409",
        lambda: expect_error_message(
            lambda: sdk.invoices.get(request={"company_id": unpulled, "invoice_id": "1"}), 409, errors.ErrorMessage
        ),
    )
    report.check(
        "invoices.list pageSize=5001 → 400",
        lambda: expect_error_message(
            lambda: sdk.invoices.list(request={"company_id": unpulled, "page_size": 5001}), 400, errors.ErrorMessage, "pageSize"
        ),
    )
    report.check(
        "invoices.list page=0 → 400",
        lambda: expect_error_message(
            lambda: sdk.invoices.list(request={"company_id": unpulled, "page": 0}), 400, errors.ErrorMessage, "page"
        ),
    )
    stranger = CodatAccounting(
        security=shared.Security(auth_header=basic_auth_header("ll_not-a-key")),
        server_url=url,
        retry_config=no_retries(utils),
        timeout_ms=30_000,
    )
    report.check(
        "invoices.list with an unknown key → 401",
        lambda: expect_error_message(lambda: stranger.invoices.list(request={"company_id": unpulled}), 401, errors.ErrorMessage),
    )


def moment(value: str) -> datetime:
    """An ISO 8601 date-time as Codat emits them (`…Z`, offsets, or local without zone)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def read_all(sdk: CodatAccounting, company_id: str, page_size: int, *, data_type: str = "invoices", **filters) -> tuple[list, int]:
    """Every page of a listing of `data_type` (the SDK's attribute: `invoices`, `credit_notes`,
    `accounts`, …) with `filters` (`query`, `order_by`); checks the envelope and the links on each
    page and that no record appears twice. Returns (records, pages)."""
    records: list = []
    page_number = 1
    total = None
    while True:
        request = {"company_id": company_id, "page": page_number, "page_size": page_size, **filters}
        try:
            page = getattr(sdk, data_type).list(request=request)
        except pydantic.ValidationError as e:
            raise CheckFailed(f"the SDK could not parse page {page_number} (pageSize {page_size}, pydantic ValidationError):\n{e}") from e
        expect(page.page_number == page_number, f"pageNumber {page.page_number}, asked {page_number}")
        expect(page.page_size == page_size, f"pageSize {page.page_size}, asked {page_size}")
        expect(total in (None, page.total_results), f"totalResults changed from {total} to {page.total_results}")
        total = page.total_results
        results = page.results or []
        expect(len(results) <= page_size, f"{len(results)} results on a page of {page_size}")
        expect(page.links.self_ is not None and page.links.current is not None, "_links without self/current")
        if page_number > 1:
            expect(page.links.previous is not None, f"no _links.previous on page {page_number}")
        records.extend(results)
        if page.links.next is None:
            break
        expect(len(results) == page_size, f"a short page {page_number} before the end")
        page_number += 1
        expect(page_number <= 1000, "more than 1000 pages")
    expect(len(records) == total, f"{len(records)} {data_type} read over {page_number} pages, totalResults {total}")
    ids = [r.id for r in records]
    expect(len(set(ids)) == len(ids), f"pages overlap: one of the {data_type} appears twice")
    return records, page_number


def invoices(report: Report, sdk: CodatAccounting, company_id: str) -> None:
    everything: list[shared.Invoice] = []

    def pages():
        found, page_count = read_all(sdk, company_id, PAGE_SIZE)
        expect(page_count >= 2, f"only {page_count} page(s) of {PAGE_SIZE}: too few invoices to test paging")
        statuses: dict[str, int] = {}
        for invoice in found:
            expect(bool(invoice.id), "an invoice without id")
            expect(bool(invoice.issue_date), f"{invoice.id}: no issueDate")
            moment(invoice.issue_date)
            expect(invoice.customer_ref is None or bool(invoice.customer_ref.id), f"{invoice.id}: customerRef without id")
            expect(
                Decimal(0) <= invoice.amount_due <= invoice.total_amount,
                f"{invoice.id}: amountDue {invoice.amount_due} outside 0..totalAmount {invoice.total_amount}",
            )
            statuses[invoice.status.value] = statuses.get(invoice.status.value, 0) + 1
        everything.extend(found)
        return f"{len(found)} invoices over {page_count} pages of {PAGE_SIZE}; statuses {statuses}"

    report.check(f"invoices.list {company_id} (all pages)", pages)
    if not everything:
        report.skip(f"invoice queries {company_id}", "listing the invoices failed")
        return

    unpaid = {i.id for i in everything if i.amount_due > 0}

    def query_and_order():
        found, page_count = read_all(sdk, company_id, 25, query="amountDue > 0", order_by="-issueDate")
        expect(len(unpaid) > 0, "the books have no unpaid invoice to query for")
        got = {i.id for i in found}
        expect(got == unpaid, f"{len(got)} results, {len(unpaid)} invoices have amountDue > 0 "
               f"(missing {sorted(unpaid - got)[:5]}, extra {sorted(got - unpaid)[:5]})")
        dates = [moment(i.issue_date) for i in found]
        expect(all(a >= b for a, b in zip(dates, dates[1:])), "not ordered by issueDate descending across pages")
        return f"{len(found)} unpaid of {len(everything)}, newest first over {page_count} pages of 25"

    report.check(f"invoices.list {company_id} query='amountDue > 0' orderBy='-issueDate'", query_and_order)

    def ascending():
        page = sdk.invoices.list(request={"company_id": company_id, "page": 1, "page_size": 20, "order_by": "issueDate"})
        dates = [moment(i.issue_date) for i in page.results or []]
        expect(len(dates) == min(20, len(everything)), f"{len(dates)} results")
        expect(all(a <= b for a, b in zip(dates, dates[1:])), "not ordered by issueDate ascending")
        oldest = min(moment(i.issue_date) for i in everything)
        expect(dates[0] == oldest, f"first {dates[0]}, the oldest invoice is from {oldest}")
        return f"oldest first from {dates[0].date()}"

    report.check(f"invoices.list {company_id} orderBy='issueDate'", ascending)

    def one():
        wanted = everything[len(everything) // 2]
        invoice = sdk.invoices.get(request={"company_id": company_id, "invoice_id": wanted.id})
        expect(invoice.model_dump() == wanted.model_dump(), f"{wanted.id} differs from its list entry")
        return f"{invoice.id} {invoice.invoice_number} {invoice.status.value} {invoice.total_amount} {invoice.currency}"

    report.check(f"invoices.get {company_id}", one)
    report.check(
        f"invoices.get {company_id} unknown id → 404",
        lambda: expect_error_message(
            lambda: sdk.invoices.get(request={"company_id": company_id, "invoice_id": "no-such-invoice"}), 404, errors.ErrorMessage
        ),
    )
    report.check(
        f"invoices.list {company_id} malformed query → 400",
        lambda: expect_error_message(
            lambda: sdk.invoices.list(request={"company_id": company_id, "query": "amountDue >"}), 400, errors.ErrorMessage
        ),
    )
    report.check(
        f"invoices.list {company_id} unknown property → 400",
        lambda: expect_error_message(
            lambda: sdk.invoices.list(request={"company_id": company_id, "query": "noSuchField = 1"}), 400, errors.ErrorMessage
        ),
    )


def credit_notes(report: Report, sdk: CodatAccounting, company_id: str) -> None:
    everything: list[shared.CreditNote] = []

    def pages():
        found, page_count = read_all(sdk, company_id, 10, data_type="credit_notes")
        expect(page_count >= 2, f"only {page_count} page(s) of 10: too few credit notes to test paging")
        statuses: dict[str, int] = {}
        for note in found:
            expect(bool(note.id) and bool(note.issue_date), f"{note.id}: no id or issueDate")
            moment(note.issue_date)
            expect(note.customer_ref is not None and bool(note.customer_ref.id), f"{note.id}: no customerRef")
            expect(note.total_amount > 0, f"{note.id}: totalAmount {note.total_amount} is not positive")
            expect(note.total_amount == note.sub_total + note.total_tax_amount, f"{note.id}: totals do not add up")
            expect(
                Decimal(0) <= note.remaining_credit <= note.total_amount,
                f"{note.id}: remainingCredit {note.remaining_credit} outside 0..totalAmount {note.total_amount}",
            )
            statuses[note.status.value] = statuses.get(note.status.value, 0) + 1
        everything.extend(found)
        return f"{len(found)} credit notes over {page_count} pages of 10; statuses {statuses}"

    report.check(f"credit_notes.list {company_id} (all pages)", pages)
    if not everything:
        report.skip(f"credit note queries {company_id}", "listing the credit notes failed")
        return

    def query_and_order():
        open_ids = {n.id for n in everything if n.remaining_credit > 0}
        found, page_count = read_all(
            sdk, company_id, 5, data_type="credit_notes", query="remainingCredit > 0", order_by="-totalAmount"
        )
        expect(len(open_ids) > 0, "the books have no credit note with credit left")
        got = {n.id for n in found}
        expect(got == open_ids, f"{len(got)} results, {len(open_ids)} credit notes have remainingCredit > 0")
        amounts = [n.total_amount for n in found]
        expect(all(a >= b for a, b in zip(amounts, amounts[1:])), "not ordered by totalAmount descending across pages")
        return f"{len(found)} with credit left of {len(everything)}, largest first over {page_count} pages of 5"

    report.check(f"credit_notes.list {company_id} query='remainingCredit > 0' orderBy='-totalAmount'", query_and_order)

    def one():
        wanted = everything[len(everything) // 2]
        note = sdk.credit_notes.get(request={"company_id": company_id, "credit_note_id": wanted.id})
        expect(note.model_dump() == wanted.model_dump(), f"{wanted.id} differs from its list entry")
        expect(bool(note.line_items) and note.line_items[0].quantity > 0, f"{wanted.id}: positive line items")
        return f"{note.id} {note.credit_note_number} {note.status.value} {note.total_amount} {note.currency}"

    report.check(f"credit_notes.get {company_id}", one)
    report.check(
        f"credit_notes.get {company_id} unknown id → 404",
        lambda: expect_error_message(
            lambda: sdk.credit_notes.get(request={"company_id": company_id, "credit_note_id": "no-such-note"}),
            404,
            errors.ErrorMessage,
        ),
    )


def relations(report: Report, sdk: CodatAccounting, company_id: str, many: str, one: str, name_field: str) -> None:
    """Customers or suppliers (`many` = the SDK's attribute, `one` its get's id parameter stem):
    every page, archived ones by query, ordered by name, one by id."""
    api = getattr(sdk, many)
    everything: list = []

    def pages():
        found, page_count = read_all(sdk, company_id, 10, data_type=many)
        expect(page_count >= 2, f"only {page_count} page(s) of 10: too few {many} to test paging")
        statuses: dict[str, int] = {}
        for record in found:
            expect(bool(record.id), f"a {one} without id")
            expect(bool(getattr(record, name_field)), f"{record.id}: no {name_field}")
            for address in record.addresses or []:
                expect(address.type is not None, f"{record.id}: an address without type")
            statuses[record.status.value] = statuses.get(record.status.value, 0) + 1
        expect(statuses.get("Archived", 0) > 0, f"no archived (blocked) {one}: {statuses}")
        everything.extend(found)
        return f"{len(found)} {many} over {page_count} pages of 10; statuses {statuses}"

    report.check(f"{many}.list {company_id} (all pages)", pages)
    if not everything:
        report.skip(f"{many} queries {company_id}", f"listing the {many} failed")
        return

    wire_name = "customerName" if one == "customer" else "supplierName"
    archived = {r.id for r in everything if r.status.value == "Archived"}

    def query_and_order():
        found, page_count = read_all(sdk, company_id, 3, data_type=many, query="status=Archived", order_by=f"-{wire_name}")
        got = {r.id for r in found}
        expect(got == archived, f"{len(got)} results, {len(archived)} {many} are archived")
        names = [getattr(r, name_field).lower() for r in found]
        expect(names == sorted(names, reverse=True), f"not ordered by {wire_name} descending: {names}")
        return f"{len(found)} archived of {len(everything)}, by name descending over {page_count} pages of 3"

    report.check(f"{many}.list {company_id} query='status=Archived' orderBy='-{wire_name}'", query_and_order)

    def ascending():
        found, _ = read_all(sdk, company_id, 50, data_type=many, order_by=wire_name)
        names = [getattr(r, name_field).lower() for r in found]
        expect(len(found) == len(everything), f"{len(found)} of {len(everything)}")
        expect(names == sorted(names), f"not ordered by {wire_name} ascending")
        return f"{len(found)} from {names[0]!r} to {names[-1]!r}"

    report.check(f"{many}.list {company_id} orderBy='{wire_name}'", ascending)

    def by_id():
        wanted = everything[len(everything) // 2]
        record = api.get(request={"company_id": company_id, f"{one}_id": wanted.id})
        expect(record.model_dump() == wanted.model_dump(), f"{wanted.id} differs from its list entry")
        return f"{record.id} {getattr(record, name_field)} {record.status.value}"

    report.check(f"{many}.get {company_id}", by_id)
    report.check(
        f"{many}.get {company_id} unknown id → 404",
        lambda: expect_error_message(
            lambda: api.get(request={"company_id": company_id, f"{one}_id": "no-such-id"}), 404, errors.ErrorMessage
        ),
    )


def bills(report: Report, sdk: CodatAccounting, company_id: str) -> None:
    everything: list[shared.Bill] = []

    def pages():
        found, page_count = read_all(sdk, company_id, PAGE_SIZE, data_type="bills")
        expect(page_count >= 2, f"only {page_count} page(s) of {PAGE_SIZE}: too few bills to test paging")
        statuses: dict[str, int] = {}
        for bill in found:
            moment(bill.issue_date)
            expect(bill.supplier_ref is not None and bool(bill.supplier_ref.id), f"{bill.id}: no supplierRef")
            expect(bill.total_amount == bill.sub_total + bill.tax_amount, f"{bill.id}: totals do not add up")
            expect(
                Decimal(0) <= bill.amount_due <= bill.total_amount,
                f"{bill.id}: amountDue {bill.amount_due} outside 0..totalAmount {bill.total_amount}",
            )
            expect(bool(bill.line_items), f"{bill.id}: no lines")
            statuses[bill.status.value] = statuses.get(bill.status.value, 0) + 1
        everything.extend(found)
        return f"{len(found)} bills over {page_count} pages of {PAGE_SIZE}; statuses {statuses}"

    report.check(f"bills.list {company_id} (all pages)", pages)
    if not everything:
        report.skip(f"bill queries {company_id}", "listing the bills failed")
        return

    def query_and_order():
        owed = {b.id for b in everything if b.amount_due > 0}
        found, page_count = read_all(sdk, company_id, 25, data_type="bills", query="amountDue > 0", order_by="-dueDate")
        expect(len(owed) > 0, "the books have no unpaid bill to query for")
        got = {b.id for b in found}
        expect(got == owed, f"{len(got)} results, {len(owed)} bills have amountDue > 0")
        dates = [moment(b.due_date) for b in found]
        expect(all(a >= b for a, b in zip(dates, dates[1:])), "not ordered by dueDate descending across pages")
        return f"{len(found)} owed of {len(everything)}, latest due first over {page_count} pages of 25"

    report.check(f"bills.list {company_id} query='amountDue > 0' orderBy='-dueDate'", query_and_order)

    def one():
        wanted = everything[len(everything) // 2]
        bill = sdk.bills.get(request={"company_id": company_id, "bill_id": wanted.id})
        expect(bill.model_dump() == wanted.model_dump(), f"{wanted.id} differs from its list entry")
        return f"{bill.id} {bill.reference} {bill.status.value} {bill.total_amount} {bill.currency}"

    report.check(f"bills.get {company_id}", one)
    report.check(
        f"bills.get {company_id} unknown id → 404",
        lambda: expect_error_message(
            lambda: sdk.bills.get(request={"company_id": company_id, "bill_id": "no-such-bill"}), 404, errors.ErrorMessage
        ),
    )


def journal_entries(report: Report, sdk: CodatAccounting, company_id: str) -> None:
    everything: list[shared.JournalEntry] = []

    def pages():
        found, page_count = read_all(sdk, company_id, 200, data_type="journal_entries")
        expect(page_count >= 2, f"only {page_count} page(s) of 200: too few entries to test paging")
        for entry in found:
            lines = entry.journal_lines or []
            expect(len(lines) >= 2, f"{entry.id}: {len(lines)} lines")
            expect(sum(line.net_amount for line in lines) == 0, f"{entry.id} does not balance")
            expect(entry.journal_ref is not None and bool(entry.journal_ref.id), f"{entry.id}: no journalRef")
            moment(entry.posted_on)
        everything.extend(found)
        return f"{len(found)} entries over {page_count} pages of 200, each balancing"

    report.check(f"journalEntries.list {company_id} (all pages)", pages)
    if not everything:
        report.skip(f"journal entry queries {company_id}", "listing the journal entries failed")
        return

    def query_and_order():
        of_invoices = {e.id for e in everything if e.record_ref is not None and e.record_ref.data_type is not None
                       and e.record_ref.data_type.value == "invoices"}
        found, page_count = read_all(sdk, company_id, 100, data_type="journal_entries", query="recordRef.dataType = invoices", order_by="-postedOn")
        expect(len(of_invoices) > 0, "no entry points at an invoice")
        got = {e.id for e in found}
        expect(got == of_invoices, f"{len(got)} results, {len(of_invoices)} entries of invoices")
        dates = [moment(e.posted_on) for e in found]
        expect(all(a >= b for a, b in zip(dates, dates[1:])), "not ordered by postedOn descending across pages")
        return f"{len(found)} entries of invoices, newest first over {page_count} pages of 100"

    report.check(f"journalEntries.list {company_id} query='recordRef.dataType = invoices' orderBy='-postedOn'", query_and_order)

    def one():
        wanted = everything[len(everything) // 2]
        entry = sdk.journal_entries.get(request={"company_id": company_id, "journal_entry_id": wanted.id})
        expect(entry.model_dump() == wanted.model_dump(), f"{wanted.id} differs from its list entry")
        return f"{entry.id} {entry.journal_ref.id if entry.journal_ref else ''} {len(entry.journal_lines or [])} lines"

    report.check(f"journalEntries.get {company_id}", one)

ACCOUNT_TYPES = {"Unknown", "Asset", "Expense", "Income", "Liability", "Equity"}


def accounts(report: Report, sdk: CodatAccounting, company_id: str) -> None:
    everything: list[shared.Account] = []

    def pages():
        found, page_count = read_all(sdk, company_id, 10, data_type="accounts")
        expect(page_count >= 2, f"only {page_count} page(s) of 10: too few accounts to test paging")
        kinds: dict[str, int] = {}
        for account in found:
            expect(bool(account.id), "an account without id")
            expect(account.type is not None and account.type.value in ACCOUNT_TYPES, f"{account.id}: type {account.type}")
            expect(account.status is not None, f"{account.id}: no status")
            expect(isinstance(account.is_bank_account, bool), f"{account.id}: isBankAccount")
            expect(account.currency in ("EUR", "GBP"), f"{account.id}: currency {account.currency}")
            expect(isinstance(account.current_balance, Decimal), f"{account.id}: currentBalance {account.current_balance!r}")
            kinds[account.type.value] = kinds.get(account.type.value, 0) + 1
        everything.extend(found)
        return f"{len(found)} accounts over {page_count} pages of 10; types {kinds}"

    report.check(f"accounts.list {company_id} (all pages)", pages)
    if not everything:
        report.skip(f"account queries {company_id}", "listing the accounts failed")
        return

    def query_and_order():
        banks = {a.id for a in everything if a.is_bank_account}
        found, _ = read_all(sdk, company_id, 3, data_type="accounts", query="isBankAccount = true", order_by="-nominalCode")
        expect(len(banks) > 0, "the chart has no bank account")
        expect({a.id for a in found} == banks, f"{len(found)} results, {len(banks)} bank accounts")
        codes = [a.nominal_code for a in found]
        expect(codes == sorted(codes, reverse=True), f"not ordered by nominalCode descending: {codes}")
        return f"{len(found)} bank accounts, codes {codes}"

    report.check(f"accounts.list {company_id} query='isBankAccount = true' orderBy='-nominalCode'", query_and_order)

    def by_type_and_balance():
        liabilities = {a.id for a in everything if a.type.value == "Liability" and a.status.value == "Active"}
        found, _ = read_all(sdk, company_id, 50, data_type="accounts", query="type = Liability && status = Active", order_by="currentBalance")
        expect({a.id for a in found} == liabilities, f"{len(found)} results, {len(liabilities)} active liabilities")
        balances = [a.current_balance for a in found]
        expect(balances == sorted(balances), "not ordered by currentBalance ascending")
        return f"{len(found)} active liabilities, lowest balance {balances[0] if balances else None}"

    report.check(f"accounts.list {company_id} query='type = Liability && status = Active' orderBy='currentBalance'", by_type_and_balance)

    def one():
        wanted = everything[len(everything) // 2]
        account = sdk.accounts.get(request={"company_id": company_id, "account_id": wanted.id})
        expect(account.model_dump() == wanted.model_dump(), f"{wanted.id} differs from its list entry")
        return f"{account.nominal_code} {account.name} {account.type.value} {account.current_balance} {account.currency}"

    report.check(f"accounts.get {company_id}", one)
    report.check(
        f"accounts.get {company_id} unknown id → 404",
        lambda: expect_error_message(
            lambda: sdk.accounts.get(request={"company_id": company_id, "account_id": "no-such-account"}), 404, errors.ErrorMessage
        ),
    )


def company_info(report: Report, sdk: CodatAccounting, company_id: str) -> None:
    def get():
        info = sdk.company_info.get(request={"company_id": company_id})
        expect(bool(info.company_name), "no companyName")
        expect(info.base_currency in ("EUR", "GBP"), f"baseCurrency {info.base_currency}")
        expect(bool(info.registration_number) and bool(info.tax_number), "registration and VAT numbers")
        expect(len(info.addresses or []) == 1 and info.addresses[0].type.value == "Billing", f"addresses {info.addresses}")
        expect(bool(info.addresses[0].line1) and bool(info.addresses[0].city), "the address has a street and a city")
        return f"{info.company_name} ({info.base_currency}, {info.registration_number}, {info.tax_number})"

    report.check(f"company_info.get {company_id}", get)


if __name__ == "__main__":
    main()
