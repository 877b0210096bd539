// Codat's `@codat/platform` 6.2.1 (npm, zod-validated responses) against a Ledgerline server:
// companies, connections, integrations, dataStatus, refreshes and pull operations, all read by
// the SDK's own models. A `null` where Codat's schema allows none, a missing required field or an
// unknown enum value makes the SDK throw ResponseValidationError, and the check fail.
//
//   node check_platform.js --url URL --key API_KEY --linked COMPANY --unpulled COMPANY
//
// Prints one line per check and exits 1 if any failed.
"use strict";

const { CodatPlatform } = require("@codat/platform");
const errors = require("@codat/platform/sdk/models/errors");

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const required of ["url", "key", "linked", "unpulled"]) {
    if (!out[required]) throw new Error(`--${required} is required`);
  }
  return out;
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const MISSING = "00000000-0000-4000-8000-000000000000";

async function main() {
  const opts = args();
  const sdk = new CodatPlatform({
    serverURL: opts.url,
    authHeader: "Basic " + Buffer.from(opts.key).toString("base64"),
    retryConfig: { strategy: "none" },
  });
  let failed = 0;
  const check = async (name, run) => {
    try {
      await run();
      console.log(`ok      ${name}`);
    } catch (error) {
      failed += 1;
      console.log(`FAILED  ${name}: ${error.stack || error}`);
    }
  };
  // The SDK must throw its typed ErrorMessage (body read by its model) with this status.
  const expectError = async (call, status) => {
    try {
      await call();
    } catch (error) {
      expect(error instanceof errors.ErrorMessage, `not the SDK's ErrorMessage: ${error.stack || error}`);
      expect(error.statusCode === status, `status ${error.statusCode}, expected ${status}`);
      return;
    }
    throw new Error(`no error, expected ${status}`);
  };

  let created = null;
  await check("companies.create with tags and with a description", async () => {
    created = await sdk.companies.create({ name: "SDK Ltd", description: "from the npm SDK", tags: { region: "uk" } });
    expect(created.id && created.name === "SDK Ltd" && created.tags.region === "uk", JSON.stringify(created));
    const bare = await sdk.companies.create({ name: "SDK bare" });
    expect(bare.description === undefined && bare.lastSync === undefined, `left out: ${JSON.stringify(bare)}`);
  });
  await check("companies.list at page sizes 1, 2 and 100", async () => {
    let total = null;
    for (const pageSize of [1, 2, 100]) {
      const seen = new Set();
      for (let page = 1; ; page += 1) {
        const r = await sdk.companies.list({ page, pageSize });
        expect(r.pageNumber === page && r.pageSize === pageSize, "envelope");
        r.results.forEach((c) => seen.add(c.id));
        total = r.totalResults;
        if (!r.links.next) break;
      }
      expect(seen.size === total, `${seen.size} companies read, totalResults ${total}`);
    }
  });
  await check("companies.list query, orderBy and tags", async () => {
    const pending = await sdk.companies.list({ query: "dataConnections.status=PendingAuth" });
    expect(pending.results.some((c) => c.id === opts.unpulled), "the PendingAuth company");
    expect(!pending.results.some((c) => c.id === opts.linked), "not the linked one");
    const tagged = await sdk.companies.list({ tags: "region=uk", orderBy: "-name" });
    expect(tagged.results.length === 1 && tagged.results[0].name === "SDK Ltd", JSON.stringify(tagged.results));
  });
  await check("companies.get linked and unpulled", async () => {
    const linked = await sdk.companies.get({ companyId: opts.linked });
    expect(linked.dataConnections.length === 1 && linked.dataConnections[0].status === "Linked", "linked");
    expect(typeof linked.lastSync === "string", "lastSync once pulled");
    await sdk.companies.get({ companyId: opts.unpulled });
  });
  await check("companies.replace and companies.update", async () => {
    const replaced = await sdk.companies.replace({ companyId: created.id, companyRequestBody: { name: "SDK Holding" } });
    expect(replaced.name === "SDK Holding" && replaced.description === undefined, JSON.stringify(replaced));
    const updated = await sdk.companies.update({ companyId: created.id, companyUpdateRequest: { description: "again" } });
    expect(updated.name === "SDK Holding" && updated.description === "again", JSON.stringify(updated));
  });
  await check("companies errors: unknown id 404, bad create 400, too many tags on update 403", async () => {
    await expectError(() => sdk.companies.get({ companyId: MISSING }), 404);
    await expectError(() => sdk.companies.create({ name: "x", tags: { k: "v".repeat(101) } }), 400);
    const tags = Object.fromEntries([...Array(11).keys()].map((i) => [`k${i}`, "v"]));
    await expectError(() => sdk.companies.update({ companyId: created.id, companyUpdateRequest: { tags } }), 403);
  });

  let linkedConnection = null;
  await check("connections.list, get, create, unlink refusal, delete", async () => {
    const list = await sdk.connections.list({ companyId: opts.linked, page: 1, pageSize: 100 });
    linkedConnection = list.results[0];
    expect(linkedConnection.status === "Linked", JSON.stringify(linkedConnection));
    const got = await sdk.connections.get({ companyId: opts.linked, connectionId: linkedConnection.id });
    expect(got.id === linkedConnection.id, "the same connection");
    const fresh = await sdk.connections.create({ companyId: created.id, requestBody: { platformKey: "qudb" } });
    expect(fresh.status === "PendingAuth" && fresh.linkUrl && fresh.lastSync === undefined, JSON.stringify(fresh));
    await expectError(
      () => sdk.connections.unlink({ companyId: created.id, connectionId: fresh.id, updateConnectionStatus: { status: "Unlinked" } }),
      403,
    );
    await expectError(() => sdk.connections.create({ companyId: created.id, requestBody: { platformKey: "gbol" } }), 404);
    await sdk.connections.delete({ companyId: created.id, connectionId: fresh.id });
    await expectError(() => sdk.connections.get({ companyId: created.id, connectionId: fresh.id }), 404);
  });
  await check("connections.updateAuthorization", async () => {
    const division = linkedConnection.connectionInfo.upstreamCompanyId;
    const r = await sdk.connections.updateAuthorization({
      companyId: opts.linked,
      connectionId: linkedConnection.id,
      requestBody: { upstreamCompanyId: division },
    });
    expect(r.connectionInfo.upstreamCompanyId === division, JSON.stringify(r.connectionInfo));
    await expectError(
      () => sdk.connections.updateAuthorization({ companyId: opts.linked, connectionId: linkedConnection.id, requestBody: {} }),
      403,
    );
  });

  await check("integrations.list and get", async () => {
    const list = await sdk.integrations.list({ page: 1, pageSize: 100 });
    expect(list.results.map((i) => i.key).sort().join() === "pbbf,qudb", JSON.stringify(list.results.map((i) => i.key)));
    const nl = await sdk.integrations.get({ platformKey: "qudb" });
    expect(nl.enabled === true, "enabled for the tenant");
    await expectError(() => sdk.integrations.get({ platformKey: "gbol" }), 404);
  });

  await check("refreshData.byDataType twice in a row, then dataStatus and pull operations", async () => {
    const first = await sdk.refreshData.byDataType({ companyId: opts.linked, dataType: "invoices" });
    const second = await sdk.refreshData.byDataType({ companyId: opts.linked, dataType: "invoices" });
    expect(first.dataType === "invoices" && second.dataType === "invoices", "pull operations");
    // A pull against the sandbox can finish in 2 ms, before the second request arrives: then
    // the second is a new pull, and the first must have ended by then. Otherwise the second
    // answers the running pull again.
    if (!first.isCompleted && !second.isCompleted && first.id !== second.id) {
      const ended = await sdk.refreshData.getPullOperation({ companyId: opts.linked, datasetId: first.id });
      expect(ended.isCompleted || ended.isErrored, "the running pull, answered again: " + JSON.stringify([ended, second]));
    }
    let status = null;
    for (let i = 0; i < 300; i += 1) {
      status = await sdk.refreshData.get({ companyId: opts.linked });
      if (status.invoices && status.invoices.currentStatus === "Complete") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status.invoices.currentStatus === "Complete", JSON.stringify(status));
    const pulls = await sdk.refreshData.listPullOperations({ companyId: opts.linked, page: 1, pageSize: 1, orderBy: "-requested" });
    expect(pulls.totalResults >= 2 && pulls.results.length === 1, JSON.stringify(pulls));
    const one = await sdk.refreshData.getPullOperation({ companyId: opts.linked, datasetId: second.id });
    expect(one.id === second.id && one.isCompleted, JSON.stringify(one));
    const complete = await sdk.refreshData.listPullOperations({ companyId: opts.linked, query: "status=Complete" });
    expect(complete.results.every((p) => p.status === "Complete"), "filtered");
    await sdk.refreshData.all({ companyId: opts.linked });
  });
  await check("refreshData errors: nothing linked 404, unknown pull 404", async () => {
    await expectError(() => sdk.refreshData.byDataType({ companyId: opts.unpulled, dataType: "invoices" }), 404);
    await expectError(() => sdk.refreshData.all({ companyId: opts.unpulled }), 404);
    await expectError(() => sdk.refreshData.getPullOperation({ companyId: opts.linked, datasetId: MISSING }), 404);
    const none = await sdk.refreshData.get({ companyId: opts.unpulled });
    expect(Object.keys(none).length === 0, JSON.stringify(none));
  });

  await check("companies.delete", async () => {
    await sdk.companies.delete({ companyId: created.id });
    await expectError(() => sdk.companies.get({ companyId: created.id }), 404);
  });

  if (failed > 0) {
    console.log(`${failed} check(s) failed`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.log(`FAILED  ${error.stack || error}`);
  process.exit(1);
});
