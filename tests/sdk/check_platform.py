"""Codat's `codat-platform` SDK against a Ledgerline server: companies, connections,
integrations, dataStatus, pull operations and error shapes.

    python check_platform.py --url http://127.0.0.1:8080 --key ll_... \
        --linked <companyId> --linked <companyId> [--invoices]

Every `--linked` company must have one Linked Exact connection. `--invoices` requires the pulls
of invoices to complete (without it any finished pull is accepted: the Exact invoice pull may
answer NotSupported on a branch that does not have it yet).
"""

from __future__ import annotations

import time
import uuid

from codat_platform import CodatPlatform, utils
from codat_platform.models import errors, shared

from sdkcheck import CheckFailed, Report, arguments, basic_auth_header, expect, expect_error_message, no_retries

EXACT_KEYS = {"qudb": "Exact (Netherlands)", "pbbf": "Exact (UK)"}
RUNNING = {"Initial", "Queued", "Fetching", "MapQueued", "Mapping", "ProcessingQueued", "Processing", "ValidationQueued", "Validating"}


def main() -> None:
    args = arguments(
        __doc__.splitlines()[0],
        lambda p: (
            p.add_argument("--linked", action="append", default=[], help="a company with a Linked connection"),
            p.add_argument("--invoices", action="store_true", help="pulls of invoices must complete"),
        ),
    )
    sdk = CodatPlatform(
        security=shared.Security(auth_header=basic_auth_header(args.key)),
        server_url=args.url,
        retry_config=no_retries(utils),
        timeout_ms=30_000,
    )
    report = Report(f"codat-platform against {args.url}")

    integrations(report, sdk)
    created = companies(report, sdk, args.linked)
    for company_id in args.linked:
        connection_id = connections(report, sdk, company_id)
        pulls(report, sdk, company_id, connection_id, args.invoices)
    errors_(report, sdk, args.url, created)
    report.finish()


def integrations(report: Report, sdk: CodatPlatform) -> None:
    def listed():
        page = sdk.integrations.list(request={"page": 1, "page_size": 100})
        keys = {i.key: i for i in page.results or []}
        for key, name in EXACT_KEYS.items():
            expect(key in keys, f"{key} is not listed: {sorted(keys)}")
            expect(keys[key].name == name, f"{key} is named {keys[key].name!r}, expected {name!r}")
            expect(keys[key].enabled, f"{key} is not enabled for the tenant")
        expect(page.total_results == len(page.results), f"totalResults {page.total_results} for {len(page.results)} results")
        return f"{page.total_results} integrations: {', '.join(sorted(keys))}"

    report.check("integrations.list", listed)
    for key in EXACT_KEYS:

        def one(key=key):
            integration = sdk.integrations.get(request={"platform_key": key})
            expect(integration.key == key, f"key {integration.key!r}")
            return f"{integration.name}, sourceType {integration.source_type.value}"

        report.check(f"integrations.get {key}", one)


def companies(report: Report, sdk: CodatPlatform, linked: list[str]) -> str | None:
    name = f"SDK check {uuid.uuid4().hex[:8]}"

    def create():
        company = sdk.companies.create(
            request={"name": name, "description": "made by check_platform.py", "tags": {"region": "nl"}}
        )
        expect(company.name == name, f"name {company.name!r}")
        expect(company.description == "made by check_platform.py", f"description {company.description!r}")
        expect(company.tags == {"region": "nl"}, f"tags {company.tags!r}")
        expect(bool(company.redirect), "no redirect")
        uuid.UUID(company.id)
        return f"{company.id}, redirect {company.redirect}", company.id

    created = report.check("companies.create", create)
    if created is None:
        return None

    def get():
        company = sdk.companies.get(request={"company_id": created})
        expect(company.id == created and company.name == name, f"got {company.id} {company.name!r}")
        expect(company.data_connections in (None, []), f"new company has connections: {company.data_connections}")
        return company.name

    report.check("companies.get", get)

    def never_pulled():
        statuses = sdk.refresh_data.get(request={"company_id": created})
        queued = {k: v for k, v in statuses.model_dump(exclude_none=True).items() if v}
        expect(not queued, f"a company never pulled shows statuses: {queued}")
        return "no data types yet"

    report.check("refresh_data.get (dataStatus) of a new company", never_pulled)

    def update():
        company = sdk.companies.update(
            request={"company_id": created, "company_request_body": {"name": name + " renamed", "tags": {"region": "uk"}}}
        )
        expect(company.id == created and company.name == name + " renamed", f"got {company.id} {company.name!r}")
        expect(company.tags == {"region": "uk"}, f"tags {company.tags!r}")
        return company.name

    report.check("companies.update (PUT)", update)

    def paged():
        seen: list[str] = []
        page_number = 1
        total = None
        while True:
            page = sdk.companies.list(request={"page": page_number, "page_size": 2})
            expect(page.page_number == page_number, f"pageNumber {page.page_number}, asked {page_number}")
            expect(page.page_size == 2, f"pageSize {page.page_size}, asked 2")
            expect(total in (None, page.total_results), f"totalResults changed from {total} to {page.total_results}")
            total = page.total_results
            results = page.results or []
            expect(len(results) <= 2, f"{len(results)} results on a page of 2")
            seen.extend(c.id for c in results)
            if page.links.next is None:
                break
            expect(len(results) == 2, f"a short page {page_number} before the end")
            page_number += 1
            expect(page_number <= 50, "more than 50 pages of 2")
        expect(len(seen) == len(set(seen)), f"pages overlap: {seen}")
        expect(len(seen) == total, f"{len(seen)} companies read, totalResults {total}")
        for wanted in [created, *linked]:
            expect(wanted in seen, f"{wanted} is not listed")
        expect(page_number >= 2, f"only {page_number} page(s) of 2 for {total} companies")
        return f"{total} companies over {page_number} pages of 2"

    report.check("companies.list (pages of 2)", paged)

    def linked_company():
        for company_id in linked:
            company = sdk.companies.get(request={"company_id": company_id})
            statuses = [c.status for c in company.data_connections or []]
            expect(shared.DataConnectionStatus.LINKED in statuses, f"{company_id} dataConnections: {statuses}")
        return f"{len(linked)} companies show a Linked connection"

    if linked:
        report.check("companies.get (linked, with dataConnections)", linked_company)

    def connect():
        connection = sdk.connections.create(request={"company_id": created, "request_body": {"platform_key": "qudb"}})
        expect(connection.status == shared.DataConnectionStatus.PENDING_AUTH, f"status {connection.status}")
        expect(connection.integration_key == "qudb", f"integrationKey {connection.integration_key!r}")
        expect(connection.link_url.startswith("http"), f"linkUrl {connection.link_url!r}")
        return f"{connection.id} PendingAuth, linkUrl {connection.link_url}", connection.id

    pending = report.check("connections.create qudb", connect)

    def delete_connection():
        sdk.connections.delete(request={"company_id": created, "connection_id": pending})
        listed = sdk.connections.list(request={"company_id": created})
        expect(all(c.id != pending for c in listed.results or []), "the deleted connection is still listed")
        return "deleted"

    if pending:
        report.check("connections.delete", delete_connection)
    return created


def connections(report: Report, sdk: CodatPlatform, company_id: str) -> str | None:
    def listed():
        page = sdk.connections.list(request={"company_id": company_id, "page": 1, "page_size": 10})
        linked = [c for c in page.results or [] if c.status == shared.DataConnectionStatus.LINKED]
        expect(len(linked) == 1, f"{len(linked)} Linked connections: {page.results}")
        connection = linked[0]
        expect(connection.integration_key in EXACT_KEYS, f"integrationKey {connection.integration_key!r}")
        expect(connection.source_type == shared.SourceType.ACCOUNTING, f"sourceType {connection.source_type}")
        expect(connection.platform_name == EXACT_KEYS[connection.integration_key], f"platformName {connection.platform_name!r}")
        return f"{connection.id} {connection.integration_key} Linked", connection.id

    connection_id = report.check(f"connections.list {company_id}", listed)
    if connection_id is None:
        return None

    def get():
        connection = sdk.connections.get(request={"company_id": company_id, "connection_id": connection_id})
        expect(connection.id == connection_id, f"id {connection.id}")
        expect(connection.status == shared.DataConnectionStatus.LINKED, f"status {connection.status}")
        return f"{connection.platform_name}, created {connection.created}, lastSync {connection.last_sync}"

    report.check(f"connections.get {connection_id}", get)
    return connection_id


def finished_pull(sdk: CodatPlatform, company_id: str, dataset_id: str, timeout: float = 60.0) -> shared.PullOperation:
    deadline = time.monotonic() + timeout
    while True:
        pull = sdk.refresh_data.get_pull_operation(request={"company_id": company_id, "dataset_id": dataset_id})
        if pull.status.value not in RUNNING:
            return pull
        if time.monotonic() > deadline:
            raise CheckFailed(f"pull {dataset_id} still {pull.status.value} after {timeout:.0f} s")
        time.sleep(0.1)


def pulls(report: Report, sdk: CodatPlatform, company_id: str, connection_id: str | None, invoices: bool) -> None:
    def check_finished(pull: shared.PullOperation) -> None:
        if invoices:
            expect(pull.status == shared.DatasetStatus.COMPLETE, f"pull {pull.id} ended {pull.status.value}: {pull.error_message}")
            expect(pull.is_completed and not pull.is_errored and pull.progress == 100, f"pull {pull.id}: {pull}")
        else:
            expect(pull.is_completed or pull.is_errored, f"pull {pull.id} ended {pull.status.value} but is neither completed nor errored")

    def status():
        statuses = sdk.refresh_data.get(request={"company_id": company_id})
        entry = statuses.invoices
        expect(entry is not None, f"no invoices entry in dataStatus: {statuses}")
        expect(entry.data_type == shared.DataType.INVOICES, f"dataType {entry.data_type}")
        expect(entry.current_status.value not in RUNNING, f"the first pull still {entry.current_status.value}")
        if invoices:
            expect(entry.current_status == shared.DatasetStatus.COMPLETE, f"currentStatus {entry.current_status.value}")
            expect(entry.latest_successful_sync_id is not None, "no latestSuccessfulSyncId after a complete pull")
        return f"invoices {entry.current_status.value}, lastSuccessfulSync {entry.last_successful_sync}"

    report.check(f"refresh_data.get (dataStatus) {company_id}", status)

    def queue():
        request = {"company_id": company_id, "data_type": shared.SchemaDataType.INVOICES}
        if connection_id:
            request["connection_id"] = connection_id
        pull = sdk.refresh_data.by_data_type(request=request)
        expect(pull.company_id == company_id, f"companyId {pull.company_id}")
        expect(connection_id is None or pull.connection_id == connection_id, f"connectionId {pull.connection_id}")
        expect(pull.data_type == "invoices", f"dataType {pull.data_type!r}")
        queued_as = pull.status.value
        done = finished_pull(sdk, company_id, pull.id)
        check_finished(done)
        return f"{pull.id} queued as {queued_as}, finished {done.status.value} ({done.progress} %)", pull.id

    dataset_id = report.check(f"refresh_data.by_data_type invoices {company_id}", queue)

    def history():
        first = sdk.refresh_data.list_pull_operations(request={"company_id": company_id, "page": 1, "page_size": 1})
        expect(first.total_results >= 2, f"totalResults {first.total_results}: the first pull and ours")
        expect(first.page_size == 1 and len(first.results or []) == 1, f"pageSize {first.page_size}, {len(first.results or [])} results")
        expect(first.links.next is not None, "no _links.next on page 1 of several")
        second = sdk.refresh_data.list_pull_operations(request={"company_id": company_id, "page": 2, "page_size": 1})
        expect(second.links.previous is not None, "no _links.previous on page 2")
        ids = [first.results[0].id, *(p.id for p in second.results or [])]
        expect(len(set(ids)) == len(ids), f"pages overlap: {ids}")
        if dataset_id:
            expect(first.results[0].id == dataset_id, f"newest first: page 1 holds {first.results[0].id}, ours is {dataset_id}")
        return f"{first.total_results} pulls, newest {first.results[0].status.value}"

    report.check(f"refresh_data.list_pull_operations {company_id}", history)

    def refresh_all():
        result = sdk.refresh_data.all(request={"company_id": company_id})
        expect(result is None, f"a body on 204: {result!r}")
        latest = sdk.refresh_data.list_pull_operations(request={"company_id": company_id, "page": 1, "page_size": 1})
        newest = latest.results[0]
        done = finished_pull(sdk, company_id, newest.id)
        check_finished(done)
        return f"204; pull {newest.id} finished {done.status.value}"

    report.check(f"refresh_data.all {company_id}", refresh_all)


def errors_(report: Report, sdk: CodatPlatform, url: str, created: str | None) -> None:
    missing = str(uuid.uuid4())
    report.check(
        "companies.get unknown id → 404",
        lambda: expect_error_message(lambda: sdk.companies.get(request={"company_id": missing}), 404, errors.ErrorMessage),
    )
    report.check(
        "companies.list pageSize=0 → 400",
        lambda: expect_error_message(lambda: sdk.companies.list(request={"page_size": 0}), 400, errors.ErrorMessage),
    )
    stranger = CodatPlatform(
        security=shared.Security(auth_header=basic_auth_header("ll_not-a-key")),
        server_url=url,
        retry_config=no_retries(utils),
        timeout_ms=30_000,
    )
    report.check(
        "companies.list with an unknown key → 401",
        lambda: expect_error_message(lambda: stranger.companies.list(), 401, errors.ErrorMessage),
    )
    report.check(
        "integrations.get unknown platform key → 404",
        lambda: expect_error_message(lambda: sdk.integrations.get(request={"platform_key": "zzzz"}), 404, errors.ErrorMessage),
    )
    if created is None:
        report.skip("errors on the created company", "companies.create failed")
        return
    report.check(
        "connections.get unknown id → 404",
        lambda: expect_error_message(
            lambda: sdk.connections.get(request={"company_id": created, "connection_id": missing}), 404, errors.ErrorMessage
        ),
    )
    report.check(
        "refresh_data.get_pull_operation unknown id → 404",
        lambda: expect_error_message(
            lambda: sdk.refresh_data.get_pull_operation(request={"company_id": created, "dataset_id": missing}),
            404,
            errors.ErrorMessage,
        ),
    )

    report.check(
        "refresh_data.by_data_type with nothing linked → 404 (a code Codat documents)",
        lambda: expect_error_message(
            lambda: sdk.refresh_data.by_data_type(request={"company_id": created, "data_type": "invoices"}),
            404,
            errors.ErrorMessage,
        ),
    )

    def delete():
        result = sdk.companies.delete(request={"company_id": created})
        expect(result is None, f"a body on 204: {result!r}")
        return expect_error_message(lambda: sdk.companies.get(request={"company_id": created}), 404, errors.ErrorMessage)

    report.check("companies.delete, then get → 404", delete)


if __name__ == "__main__":
    main()
