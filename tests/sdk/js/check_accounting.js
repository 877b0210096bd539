// Codat's `@codat/accounting` (npm) against a Ledgerline server: invoices, credit notes, customers,
// suppliers, bills, journal entries and the chart of accounts listed page by page, filtered and
// sorted, got by id, company info, and the error answers, all read by the SDK's own models.
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
      const invoices = await readAll(sdk, "invoices", companyId, { pageSize: 50 });
      expect(invoices.length > 50, `${invoices.length} invoices: too few to page`);
      for (const invoice of invoices) {
        expect(STATUSES.includes(invoice.status), `status ${invoice.status}`);
        expect(typeof invoice.totalAmount === "number" && typeof invoice.amountDue === "number", "amounts are numbers");
        expect(invoice.amountDue >= 0 && invoice.amountDue <= invoice.totalAmount, `amountDue of ${invoice.id}`);
        expect(typeof invoice.issueDate === "string" && invoice.issueDate.length >= 10, "issueDate");
      }
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

    await creditNotes(sdk, check, companyId);
    await relations(sdk, check, companyId, "customers", "customer", "customerName");
    await relations(sdk, check, companyId, "suppliers", "supplier", "supplierName");
  }

  for (const companyId of opts.pulled) {
    await checkBills(check, sdk, companyId);
    await checkJournalEntries(check, sdk, companyId);
  }

  const ACCOUNT_TYPES = ["Unknown", "Asset", "Expense", "Income", "Liability", "Equity"];
  for (const companyId of opts.pulled) {
    const accounts = [];
    await check(`accounts.list every page of ${companyId}`, async () => {
      accounts.push(...(await readAll(sdk, "accounts", companyId, { pageSize: 10 })));
      expect(accounts.length > 10, `${accounts.length} accounts: too few to page`);
      for (const account of accounts) {
        expect(ACCOUNT_TYPES.includes(account.type), `type ${account.type}`);
        expect(["Active", "Archived"].includes(account.status), `status ${account.status}`);
        expect(typeof account.currentBalance === "number", "currentBalance is a number");
        expect(typeof account.isBankAccount === "boolean", "isBankAccount is a boolean");
      }
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

// Credit notes: every page, a query with orderBy, and one by id.
async function creditNotes(sdk, check, companyId) {
  const all = [];
  await check(`creditNotes.list every page of ${companyId}`, async () => {
    all.push(...(await readAll(sdk, "creditNotes", companyId, { pageSize: 10 })));
    expect(all.length > 10, `${all.length} credit notes: too few to page`);
    for (const note of all) {
      expect(STATUSES.includes(note.status), `status ${note.status}`);
      for (const field of ["subTotal", "totalTaxAmount", "totalAmount", "totalDiscount", "discountPercentage", "remainingCredit"]) {
        expect(typeof note[field] === "number", `${note.id}: ${field} is a number`);
      }
      expect(note.totalAmount > 0, `${note.id}: positive`);
      expect(note.remainingCredit >= 0 && note.remainingCredit <= note.totalAmount, `remainingCredit of ${note.id}`);
      expect(note.customerRef && note.customerRef.id, `${note.id}: customerRef`);
    }
  });

  await check(`creditNotes.list query and orderBy on ${companyId}`, async () => {
    const r = await sdk.creditNotes.list({ companyId, pageSize: 5000, query: "remainingCredit > 0", orderBy: "-issueDate" });
    expect(r.statusCode === 200, `status ${r.statusCode}`);
    const results = r.creditNotes.results;
    const open = all.filter((n) => n.remainingCredit > 0).length;
    expect(results.length > 0 && results.length === open, `${results.length} results, ${open} with credit left`);
    for (let i = 1; i < results.length; i += 1) {
      expect(results[i - 1].issueDate >= results[i].issueDate, "newest first");
    }
  });

  await check(`creditNotes.get one of ${companyId}`, async () => {
    const wanted = all[Math.floor(all.length / 2)];
    expect(wanted, "a credit note listed");
    const r = await sdk.creditNotes.get({ companyId, creditNoteId: wanted.id });
    expect(r.statusCode === 200 && r.creditNote, `status ${r.statusCode}`);
    expect(JSON.stringify(r.creditNote) === JSON.stringify(wanted), "the same credit note as in the list");
    expect(r.creditNote.lineItems.length > 0 && r.creditNote.lineItems[0].quantity > 0, "positive line items");
  });
}

const RELATION_STATUSES = ["Unknown", "Active", "Archived"];

// Customers or suppliers (`many`: the SDK's attribute and the list's body; `one`: the get's body
// and id parameter stem): every page, archived ones by query ordered by name, one by id.
async function relations(sdk, check, companyId, many, one, nameField) {
  const api = sdk[many];
  let everything = [];
  await check(`${many}.list every page of ${companyId}`, async () => {
    everything = await readAll(sdk, many, companyId, { pageSize: 10 });
    expect(everything.length > 10, `only ${everything.length} ${many}: too few to test paging`);
    for (const record of everything) {
      expect(RELATION_STATUSES.includes(record.status), `status ${record.status}`);
      expect(typeof record[nameField] === "string", `${record.id} has a ${nameField}`);
      for (const address of record.addresses) expect(typeof address.type === "string", "an address type");
    }
  });

  await check(`${many}.list query and orderBy on ${companyId}`, async () => {
    const archived = everything.filter((r) => r.status === "Archived").map((r) => r.id).sort();
    expect(archived.length > 0, `some archived ${many}`);
    const found = await readAll(sdk, many, companyId, { pageSize: 3, query: "status=Archived", orderBy: `-${nameField}` });
    expect(JSON.stringify(found.map((r) => r.id).sort()) === JSON.stringify(archived), "exactly the archived ones");
    const names = found.map((r) => r[nameField].toLowerCase());
    for (let i = 1; i < names.length; i += 1) expect(names[i - 1] >= names[i], `by ${nameField} descending`);
    const ascending = await readAll(sdk, many, companyId, { pageSize: 50, orderBy: nameField });
    const up = ascending.map((r) => r[nameField].toLowerCase());
    for (let i = 1; i < up.length; i += 1) expect(up[i - 1] <= up[i], `by ${nameField} ascending`);
  });

  await check(`${many}.get one of ${companyId}`, async () => {
    const wanted = everything[Math.floor(everything.length / 2)];
    const r = await api.get({ companyId, [`${one}Id`]: wanted.id });
    expect(r.statusCode === 200 && r[one], `status ${r.statusCode}`);
    expect(JSON.stringify(r[one]) === JSON.stringify(wanted), `the same ${one} as in the list`);
    const missing = await api.get({ companyId, [`${one}Id`]: "no-such-id" });
    expect(missing.statusCode === 404 && missing.errorMessage, `unknown id: ${missing.statusCode}`);
  });
}

const BILL_STATUSES = ["Unknown", "Open", "PartiallyPaid", "Paid", "Void", "Draft"];

// Every record of a listing of `many` (the SDK's attribute and its response's field:
// `invoices`, `creditNotes`, …) with `request` (`pageSize`, `query`, `orderBy`), page by page: each
// page's envelope is checked, and that no record appears twice.
async function readAll(sdk, many, companyId, request) {
  const records = [];
  let total = null;
  for (let page = 1; ; page += 1) {
    const r = await sdk[many].list({ companyId, page, ...request });
    expect(r.statusCode === 200 && r[many], `${many} page ${page}: ${r.statusCode}`);
    const body = r[many];
    expect(body.pageNumber === page && body.pageSize === request.pageSize, `${many} page ${page}: envelope`);
    total = body.totalResults;
    records.push(...body.results);
    if (!body.links.next) break;
  }
  expect(records.length === total, `${records.length} ${many} read, totalResults ${total}`);
  expect(new Set(records.map((r) => r.id)).size === records.length, `${many}: pages overlap`);
  return records;
}

async function checkBills(check, sdk, companyId) {
  let bills = [];
  await check(`bills.list every page of ${companyId}`, async () => {
    bills = await readAll(sdk, "bills", companyId, { pageSize: 50 });
    expect(bills.length > 50, `${bills.length} bills: too few to page`);
    for (const bill of bills) {
      expect(BILL_STATUSES.includes(bill.status), `status ${bill.status}`);
      expect(typeof bill.totalAmount === "number" && typeof bill.amountDue === "number", "amounts are numbers");
      expect(bill.amountDue >= 0 && bill.amountDue <= bill.totalAmount, `amountDue of ${bill.id}`);
      expect(bill.supplierRef && bill.supplierRef.id, `supplierRef of ${bill.id}`);
      expect(bill.lineItems.length > 0 && typeof bill.lineItems[0].unitAmount === "number", "line items");
    }
  });
  await check(`bills.list query and orderBy on ${companyId}`, async () => {
    const owed = bills.filter((b) => b.amountDue > 0).length;
    const found = await readAll(sdk, "bills", companyId, { pageSize: 20, query: "amountDue > 0", orderBy: "-issueDate" });
    expect(owed > 0 && found.length === owed, `${found.length} results, ${owed} bills owed`);
    for (let i = 1; i < found.length; i += 1) expect(found[i - 1].issueDate >= found[i].issueDate, "newest first");
  });
  await check(`bills.get one of ${companyId}`, async () => {
    const wanted = bills[Math.floor(bills.length / 2)];
    const r = await sdk.bills.get({ companyId, billId: wanted.id });
    expect(r.statusCode === 200 && r.bill, `status ${r.statusCode}`);
    expect(JSON.stringify(r.bill) === JSON.stringify(wanted), "the same bill as in the list");
  });
}

async function checkJournalEntries(check, sdk, companyId) {
  let entries = [];
  await check(`journalEntries.list every page of ${companyId}`, async () => {
    entries = await readAll(sdk, "journalEntries", companyId, { pageSize: 200 });
    expect(entries.length > 200, `${entries.length} entries: too few to page`);
    for (const entry of entries) {
      const cents = entry.journalLines.reduce((sum, l) => sum + Math.round(l.netAmount * 100), 0);
      expect(cents === 0, `${entry.id} does not balance`);
      expect(entry.journalRef && entry.journalRef.id, `journalRef of ${entry.id}`);
    }
  });
  await check(`journalEntries.list query and orderBy on ${companyId}`, async () => {
    const billEntries = entries.filter((e) => e.recordRef && e.recordRef.dataType === "bills").length;
    const found = await readAll(sdk, "journalEntries", companyId, {
      pageSize: 100,
      query: "recordRef.dataType = bills",
      orderBy: "postedOn",
    });
    expect(billEntries > 0 && found.length === billEntries, `${found.length} results, ${billEntries} bill entries`);
    for (let i = 1; i < found.length; i += 1) expect(found[i - 1].postedOn <= found[i].postedOn, "oldest first");
  });
  await check(`journalEntries.get one of ${companyId}`, async () => {
    const wanted = entries[Math.floor(entries.length / 2)];
    const r = await sdk.journalEntries.get({ companyId, journalEntryId: wanted.id });
    expect(r.statusCode === 200 && r.journalEntry, `status ${r.statusCode}`);
    expect(JSON.stringify(r.journalEntry) === JSON.stringify(wanted), "the same entry as in the list");
  });
}

main().catch((error) => {
  console.log(`FAILED  ${error.stack || error}`);
  process.exit(1);
});
