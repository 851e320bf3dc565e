/**
 * The commands that talk to a running node over JSON-RPC (`leither start` runs one): status,
 * organization, accounts, transfers, receipts, proofs, pulses, keys and raw transactions.
 */
import type { Command } from "commander";
import type { OrgJson, TxStatusJson } from "../rpc/api.js";
import { RpcErrorCode } from "../rpc/errors.js";
import { CliError } from "./errors.js";
import {
  accountArg,
  amountArg,
  intArg,
  NodeCallError,
  type NodeOpts,
  print,
  rootText,
  rpc,
  shellWord,
  stateText,
  txHexArg,
  txIdArg,
  withNodeOptions,
  writeOut,
} from "./node-rpc.js";

type PulseOpts = NodeOpts & { pulse?: string };
type OutOpts = NodeOpts & { out?: string };
type OrgCreateOpts = NodeOpts & {
  supply?: string;
  founderAmount?: string;
  committee?: string;
  electionCycle?: string;
  committeeSize?: string;
  minDeposit?: string;
};

/**
 * Registers the node commands. Call it after registerTreeCommands: `proof get` joins the `proof`
 * group that `proof verify` made, as a second `proof` command would never be reached.
 */
export function registerNodeCommands(program: Command): void {
  const node = (parent: Command, name: string, description: string) =>
    withNodeOptions(parent.command(name).description(description));

  node(program, "status", "the running node: pulse, root, organization, account, peers, RPC URL").action(
    async (opts: NodeOpts) => {
      const s = await rpc(opts, "node_status", {});
      print(opts, s, () => [
        `pulse    ${s.pulse ?? "(none yet)"}`,
        `root     ${rootText(s.root)}`,
        `org      ${s.org ?? "(none: leither org create founds one)"}`,
        `account  ${s.account}`,
        `peers    ${s.peers}`,
        `pending  ${s.pending}`,
        `rpc      ${s.rpc}`,
      ]);
    },
  );

  const org = program.command("org").description("organizations: found, inspect, join, approve");
  node(org, "create", "found an organization kept by this node; waits for its genesis pulse")
    .argument("<name>", "its name (1 to 64 characters)")
    .option("--supply <n>", "tokens issued (default 1000000000)")
    .option("--founder-amount <n>", "tokens for this node's account (default 1000000)")
    .option(
      "--committee <ids>",
      "first committee: account ids, comma-separated, the first proposes first (default: this node alone)",
    )
    .option("--election-cycle <n>", "pulses per election cycle, at least 4 (default 1800)")
    .option("--committee-size <n>", "bookkeepers per committee (default: the --committee count, or 1)")
    .option("--min-deposit <n>", "smallest deposit of a bookkeeper candidate (default 1000)")
    .action(async (name: string, opts: OrgCreateOpts) => {
      if (name.length < 1 || name.length > 64) throw new CliError("the name must be 1 to 64 characters");
      const o = await rpc(opts, "org_create", {
        name,
        ...(opts.supply === undefined ? {} : { supply: amountArg(opts.supply, "--supply") }),
        ...(opts.founderAmount === undefined
          ? {}
          : { founderAmount: amountArg(opts.founderAmount, "--founder-amount") }),
        ...(opts.committee === undefined ? {} : { committee: committeeArg(opts.committee) }),
        ...(opts.electionCycle === undefined
          ? {}
          : { electionCycle: intArg(opts.electionCycle, "--election-cycle", 4, 0xffff_ffff) }),
        ...(opts.committeeSize === undefined
          ? {}
          : { committeeSize: intArg(opts.committeeSize, "--committee-size", 1, 0xffff) }),
        ...(opts.minDeposit === undefined ? {} : { minDeposit: amountArg(opts.minDeposit, "--min-deposit") }),
      });
      print(opts, o, () => orgLines(o));
    });
  node(org, "info", "an organization's parameters and genesis distribution (any organization, with its id)")
    .argument("[id]", "an organization's id (default: this node's), found through the DHT")
    .action(async (id: string | undefined, opts: NodeOpts) => {
      const o = await rpc(
        opts,
        "org_info",
        id === undefined ? {} : { id: accountArg(id, "the organization") },
      );
      print(opts, o, () => orgLines(o));
    });

  node(program, "balance", "an account's amount, spendable part, nonce and role")
    .argument("[account]", "account id (default: this node's account)")
    .option("--pulse <n>", "at this retained pulse (default: the newest)")
    .action(async (account: string | undefined, opts: PulseOpts) => {
      const a = await rpc(opts, "ledger_getAccount", {
        ...(account === undefined ? {} : { account: accountArg(account) }),
        ...(opts.pulse === undefined ? {} : { pulse: intArg(opts.pulse, "--pulse") }),
      });
      print(opts, a, () => [
        `account    ${a.account}${a.exists ? "" : " (no such account at this pulse)"}`,
        `amount     ${a.amount}`,
        `spendable  ${a.spendable}`,
        `nonce      ${a.nonce}`,
        `role       ${a.role}`,
        `pulse      ${a.pulse}`,
      ]);
    });

  node(program, "transfer", "transfer tokens from a key this node holds; waits for the verdict")
    .argument("<to>", "the payee's account id")
    .argument("<amount>", "tokens (decimal)")
    .option("--from <id>", "the payer (default: this node's account)")
    .option("--expiry <n>", "valid for this many pulses (default 10)")
    .option("--no-wait", "answer at once (pending) instead of waiting for the end of the pulse")
    .action(
      async (
        to: string,
        amount: string,
        opts: NodeOpts & { from?: string; expiry?: string; wait: boolean },
      ) => {
        const params = {
          to: accountArg(to, "the payee"),
          amount: amountArg(amount, "the amount", true),
          ...(opts.from === undefined ? {} : { from: accountArg(opts.from, "--from") }),
          ...(opts.expiry === undefined ? {} : { expiry: intArg(opts.expiry, "--expiry", 1, 100_000) }),
          wait: opts.wait,
        };
        let s: TxStatusJson;
        try {
          s = await rpc(opts, "tx_transfer", params);
        } catch (err) {
          // The one refusal a person can act on: say what to do on one line (the code's data has the tx).
          if (err instanceof NodeCallError && err.rpcCode === RpcErrorCode.PAYEE_SIGNATURE)
            throw new CliError(
              `the payee ${params.to} must countersign this transfer and this node does not hold its key: ` +
                "the payee's node runs `leither tx sign <hex>`, then `leither tx submit <signed hex>` (--json prints the hex)",
              1,
            );
          throw err;
        }
        printVerdict(opts, s, "transfer");
      },
    );

  node(program, "receipt", "an accepted transaction's receipt: its pulse, root and each party's proof")
    .argument("<txId>", "transaction id (64 hex digits)")
    .option("--out <file>", "write the receipt (JSON) to this file")
    .action(async (txId: string, opts: OutOpts) => {
      const r = await rpc(opts, "tx_receipt", { txId: txIdArg(txId) });
      if (opts.out !== undefined) writeOut(opts.out, `${JSON.stringify(r, null, 2)}\n`);
      print(opts, r, () => [
        `tx       ${r.txId}`,
        `pulse    ${r.pulse}`,
        `root     ${rootText(r.root)}`,
        `parties  ${r.proofs.map((p) => p.account).join(", ")}`,
        ...(opts.out === undefined ? [] : [`receipt written to ${opts.out}`]),
      ]);
    });

  // `proof verify` (tree-commands.ts) made the group; a second `proof` command would be unreachable.
  const proof =
    program.commands.find((c) => c.name() === "proof") ?? program.command("proof").description("proof tools");
  node(proof, "get", "an account's proof at a pulse, in the JSON `leither proof verify` reads")
    .argument("[account]", "account id (default: this node's account)")
    .option("--pulse <n>", "at this retained pulse (default: the newest)")
    .option("--out <file>", "write the proof (JSON) to this file")
    .action(async (account: string | undefined, opts: PulseOpts & OutOpts) => {
      const p = await rpc(opts, "ledger_getProof", {
        ...(account === undefined ? {} : { account: accountArg(account) }),
        ...(opts.pulse === undefined ? {} : { pulse: intArg(opts.pulse, "--pulse") }),
      });
      const text = `${JSON.stringify(p.proof, null, 2)}\n`;
      if (opts.out !== undefined) writeOut(opts.out, text);
      if (opts.json) console.log(JSON.stringify(p));
      else if (opts.out === undefined) process.stdout.write(text);
      else console.log(`proof of ${p.account} at pulse ${p.pulse} written to ${opts.out}`);
      if (!opts.json)
        // The check, ready to paste: `-` reads the proof piped from this command's standard output.
        console.error(
          `leither proof verify ${shellWord(opts.out ?? "-")} --root ${p.root.hash} --sum ${p.root.sum} --count ${p.root.count}`,
        );
    });

  node(program, "pulse", "the newest final pulse and the retained range, or one retained pulse's root")
    .argument("[n]", "a retained pulse")
    .action(async (n: string | undefined, opts: NodeOpts) => {
      if (n !== undefined) {
        const p = await rpc(opts, "pulse_get", { pulse: intArg(n, "the pulse") });
        print(opts, p, () => [`pulse ${p.pulse} root ${rootText(p.root)}`]);
        return;
      }
      const c = await rpc(opts, "pulse_current", {});
      const r = c.retained;
      print(opts, c, () => [
        `pulse ${c.pulse ?? "(none yet)"} root ${rootText(c.root)}`,
        `slot ${c.slot}, period ${c.periodMs} ms, retained ${r.count === 0 ? "none" : `pulses ${r.first} to ${r.last} (${r.count})`}`,
      ]);
    });

  const keys = program.command("keys").description("the account keys this node holds");
  node(keys, "list", "the keys this node holds").action(async (opts: NodeOpts) => {
    const k = await rpc(opts, "keys_list", {});
    print(opts, k, () => k.keys.map((x) => `${x.id}  ${x.publicKey}${x.node ? "  (node)" : ""}`));
  });
  node(keys, "new", "make a new account key (keys/<id>.json in the data dir)").action(
    async (opts: NodeOpts) => {
      const k = await rpc(opts, "keys_new", {});
      print(opts, k, () => [`new account ${k.id}`, `public key  ${k.publicKey}`]);
    },
  );

  const tx = program.command("tx").description("transactions: status, countersigning, submitting");
  node(tx, "status", "pending, accepted (at which pulse), rejected (why) or unknown")
    .argument("<txId>", "transaction id (64 hex digits)")
    .action(async (txId: string, opts: NodeOpts) => {
      const s = await rpc(opts, "tx_status", { txId: txIdArg(txId) });
      print(opts, s, () => [`${s.txId}: ${stateText(s)}`]);
    });
  node(tx, "sign", "countersign an encoded transaction with a key this node holds; prints it signed (hex)")
    .argument("<hex>", "the encoded transaction, or - for standard input")
    .option("--account <id>", "the signer (default: this node's account)")
    .action(async (hex: string, opts: NodeOpts & { account?: string }) => {
      const s = await rpc(opts, "tx_sign", {
        tx: txHexArg(hex),
        ...(opts.account === undefined ? {} : { account: accountArg(opts.account, "--account") }),
      });
      // Only the hex on standard output, so that it pipes into `leither tx submit -`.
      print(opts, s, () => [s.tx]);
    });
  node(tx, "submit", "submit an encoded, signed transaction; waits for the verdict")
    .argument("<hex>", "the encoded transaction, or - for standard input")
    .option("--no-wait", "answer at once (pending) instead of waiting for the end of the pulse")
    .action(async (hex: string, opts: NodeOpts & { wait: boolean }) => {
      printVerdict(opts, await rpc(opts, "tx_submit", { tx: txHexArg(hex), wait: opts.wait }), "transaction");
    });
}

/** Prints a submitted transaction's status; a rejection is a failure (exit 1) after the output. */
export function printVerdict(opts: NodeOpts, s: TxStatusJson, what: string): void {
  if (opts.json) console.log(JSON.stringify(s));
  if (s.state === "rejected") throw new CliError(`${what} ${s.txId} ${stateText(s)}`, 1);
  if (!opts.json) console.log(`${s.txId}: ${stateText(s)}`);
}

/** `--committee`: comma-separated account ids, each once. */
function committeeArg(v: string): string[] {
  const ids = v
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "")
    .map((x) => accountArg(x, "a --committee member"));
  const twice = ids.find((x, i) => ids.indexOf(x) !== i);
  if (twice !== undefined) throw new CliError(`--committee lists ${twice} twice`);
  return ids;
}

function orgLines(o: OrgJson): string[] {
  return [
    `org         ${o.id}`,
    `name        ${o.name}`,
    `supervisor  ${o.supervisor}`,
    `supply      ${o.supply}`,
    `pulse       ${o.pulsePeriodMs} ms, newest ${o.head ?? "(none yet)"}`,
    `committee   ${o.committeeSize}, election every ${o.electionCycle} pulses, min deposit ${o.minDeposit}`,
    ...o.committee.map(
      (id, i) => `bookkeeper  ${id}${i === 0 ? " (cycle 0, proposes first)" : " (cycle 0)"}`,
    ),
    ...o.distribution.map(
      (d) => `genesis     ${d.amount} to ${d.to}${d.reason === "" ? "" : ` (${d.reason})`}`,
    ),
  ];
}
