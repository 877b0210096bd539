// Codat's `@codat/accounting` (npm) against a Ledgerline server: invoices and the chart of
// accounts listed page by page, filtered and sorted, got by id, company info, and the error
// answers, all read by the SDK's own models.
//
//   node check_accounting.js --url URL --key API_KEY --unpulled COMPANY --pulled COMPANY [--pulled COMPANY]
//
// Prints one line per check and exits 1 if any failed.
"use strict";

const { CodatAccounting } = require("@codat/accounting");

function args() {
  const out = { pulled: [] };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i].replace(/^--/, ""), argv[i + 1]];
    if (name === "pulled") out.pulled.push(value);
    else out[name] = value;
  }
  for (const required of ["url", "key", "unpulled"]) {
    if (!out[required]) throw new Error(`--${required} is required`);
  }
  if (out.pulled.length === 0) throw new Error("at least one --pulled company is required");
  return out;
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const STATUSES = ["Unknown", "Draft", "Submitted", "PartiallyPaid", "Paid", "Void"];

async function main() {
  const opts = args();
  const sdk = new CodatAccounting({
    serverURL: opts.url,
    security: { authHeader: "Basic " + Buffer.from(opts.key).toString("base64") },
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

  for (const companyId of opts.pulled) {
    await check(`invoices.list every page of ${companyId}`, async () => {
      const seen = new Set();
      let total = null;
      for (let page = 1; ; page += 1) {
        const r = await sdk.invoices.list({ companyId, page, pageSize: 50 });
        expect(r.statusCode === 200 && r.invoices, `page ${page}: ${r.statusCode}`);
        const body = r.invoices;
        expect(body.pageNumber === page && body.pageSize === 50, `page ${page}: envelope`);
        total = body.totalResults;
        for (const invoice of body.results) {
          expect(!seen.has(invoice.id), `invoice ${invoice.id} twice`);
          seen.add(invoice.id);
          expect(STATUSES.includes(invoice.status), `status ${invoice.status}`);
          expect(typeof invoice.totalAmount === "number" && typeof invoice.amountDue === "number", "amounts are numbers");
          expect(invoice.amountDue >= 0 && invoice.amountDue <= invoice.totalAmount, `amountDue of ${invoice.id}`);
          expect(typeof invoice.issueDate === "string" && invoice.issueDate.length >= 10, "issueDate");
        }
        if (!body.links.next) break;
      }
      expect(seen.size === total, `${seen.size} invoices read, totalResults ${total}`);
    });

    await check(`invoices.list query and orderBy on ${companyId}`, async () => {
      const r = await sdk.invoices.list({ companyId, pageSize: 20, query: "amountDue > 0", orderBy: "-issueDate" });
      expect(r.statusCode === 200, `status ${r.statusCode}`);
      const results = r.invoices.results;
      expect(results.length > 0, "some unpaid invoices");
      for (let i = 0; i < results.length; i += 1) {
        expect(results[i].amountDue > 0, `${results[i].id} is unpaid`);
        if (i > 0) expect(results[i - 1].issueDate >= results[i].issueDate, "newest first");
      }
    });

    await check(`invoices.get one of ${companyId}`, async () => {
      const first = (await sdk.invoices.list({ companyId, pageSize: 1 })).invoices.results[0];
      const r = await sdk.invoices.get({ companyId, invoiceId: first.id });
      expect(r.statusCode === 200 && r.invoice, `status ${r.statusCode}`);
      expect(JSON.stringify(r.invoice) === JSON.stringify(first), "the same invoice as in the list");
      expect(r.invoice.lineItems.length > 0 && typeof r.invoice.lineItems[0].quantity === "number", "line items");
    });
  }

  const ACCOUNT_TYPES = ["Unknown", "Asset", "Expense", "Income", "Liability", "Equity"];
  for (const companyId of opts.pulled) {
    const accounts = [];
    await check(`accounts.list every page of ${companyId}`, async () => {
      let total = null;
      for (let page = 1; ; page += 1) {
        const r = await sdk.accounts.list({ companyId, page, pageSize: 10 });
        expect(r.statusCode === 200 && r.accounts, `page ${page}: ${r.statusCode}`);
        const body = r.accounts;
        expect(body.pageNumber === page && body.pageSize === 10, `page ${page}: envelope`);
        total = body.totalResults;
        for (const account of body.results) {
          expect(!accounts.some((a) => a.id === account.id), `account ${account.id} twice`);
          expect(ACCOUNT_TYPES.includes(account.type), `type ${account.type}`);
          expect(["Active", "Archived"].includes(account.status), `status ${account.status}`);
          expect(typeof account.currentBalance === "number", "currentBalance is a number");
          expect(typeof account.isBankAccount === "boolean", "isBankAccount is a boolean");
          accounts.push(account);
        }
        if (!body.links.next) break;
      }
      expect(accounts.length === total && total > 10, `${accounts.length} accounts read, totalResults ${total}`);
    });

    await check(`accounts.list query and orderBy on ${companyId}`, async () => {
      const r = await sdk.accounts.list({ companyId, pageSize: 50, query: "isBankAccount = true", orderBy: "-nominalCode" });
      expect(r.statusCode === 200, `status ${r.statusCode}`);
      const results = r.accounts.results;
      const banks = accounts.filter((a) => a.isBankAccount).length;
      expect(results.length === banks && banks > 0, `${results.length} results, ${banks} bank accounts`);
      for (let i = 0; i < results.length; i += 1) {
        expect(results[i].isBankAccount === true, `${results[i].id} is a bank account`);
        if (i > 0) expect(results[i - 1].nominalCode >= results[i].nominalCode, "highest code first");
      }
    });

    await check(`accounts.get one of ${companyId}`, async () => {
      const wanted = accounts[Math.floor(accounts.length / 2)];
      const r = await sdk.accounts.get({ companyId, accountId: wanted.id });
      expect(r.statusCode === 200 && r.account, `status ${r.statusCode}`);
      expect(JSON.stringify(r.account) === JSON.stringify(wanted), "the same account as in the list");
    });

    await check(`companyInfo.get of ${companyId}`, async () => {
      const r = await sdk.companyInfo.get({ companyId });
      expect(r.statusCode === 200 && r.companyDataset, `status ${r.statusCode}`);
      const info = r.companyDataset;
      expect(typeof info.companyName === "string" && info.companyName.length > 0, "companyName");
      expect(["EUR", "GBP"].includes(info.baseCurrency), `baseCurrency ${info.baseCurrency}`);
      expect(info.addresses.length === 1 && info.addresses[0].type === "Billing", "one billing address");
      expect(typeof info.registrationNumber === "string" && typeof info.taxNumber === "string", "numbers");
    });
  }

  const errorCase = async (name, request, status) =>
    check(name, async () => {
      const r = await request();
      expect(r.statusCode === status, `status ${r.statusCode}, expected ${status}`);
      expect(r.errorMessage && r.errorMessage.statusCode === status, "the SDK's ErrorMessage model read the body");
      expect(typeof r.errorMessage.canBeRetried === "string", "canBeRetried is a string");
    });
  await errorCase(
    "invoices.list of an unknown company → 404",
    () => sdk.invoices.list({ companyId: "00000000-0000-4000-8000-000000000000" }),
    404,
  );
  await errorCase("invoices.list never pulled → 409", () => sdk.invoices.list({ companyId: opts.unpulled }), 409);
  await errorCase(
    "invoices.list with a malformed query → 400",
    () => sdk.invoices.list({ companyId: opts.pulled[0], query: "amountDue >" }),
    400,
  );

  if (failed > 0) {
    console.log(`${failed} check(s) failed`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.log(`FAILED  ${error.stack || error}`);
  process.exit(1);
});
