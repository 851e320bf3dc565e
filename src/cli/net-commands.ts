/**
 * The network's commands: join an organization and approve applicants, send and read messages,
 * see the node's place in the peer-to-peer network. They talk to the running node over JSON-RPC.
 */
import type { Command } from "commander";
import { CliError } from "./errors.js";
import { printVerdict } from "./node-commands.js";
import { accountArg, type NodeOpts, print, rpc, stateText, withNodeOptions } from "./node-rpc.js";

/** Registers the network commands (after registerNodeCommands, which makes the `org` group). */
export function registerNetCommands(program: Command): void {
  const node = (parent: Command, name: string, description: string) =>
    withNodeOptions(parent.command(name).description(description));
  const org = program.commands.find((c) => c.name() === "org") ?? program.command("org");

  node(org, "join", "apply to join an organization (found through the DHT); this node then follows it")
    .argument("<id>", "the organization's id")
    .option("--via <multiaddr>", "a member's address (with /p2p/<peer id>) that forwards the application")
    .action(async (id: string, opts: NodeOpts & { via?: string }) => {
      const r = await rpc(opts, "org_join", {
        org: accountArg(id, "the organization"),
        ...(opts.via === undefined ? {} : { via: opts.via }),
      });
      print(opts, r, () => [
        `org          ${r.org} (${r.name})`,
        `pulse        ${r.pulse}`,
        `application  ${r.application.txId}: ${stateText(r.application)}`,
        "a supervisor approves it (`leither org approve <account>` on its node, or its auto-approve policy)",
      ]);
    });
  node(org, "approve", "approve a join application (on the node that keeps the books)")
    .argument("<account>", "the applicant's account id")
    .option("--role <role>", "member or guest (default member)")
    .action(async (account: string, opts: NodeOpts & { role?: string }) => {
      if (opts.role !== undefined && opts.role !== "member" && opts.role !== "guest")
        throw new CliError(`--role must be member or guest, got ${JSON.stringify(opts.role)}`);
      const s = await rpc(opts, "org_approve", {
        account: accountArg(account, "the applicant"),
        ...(opts.role === undefined ? {} : { role: opts.role as "member" | "guest" }),
      });
      printVerdict(opts, s, "approval");
    });
  node(org, "applications", "join applications waiting for approval").action(async (opts: NodeOpts) => {
    const r = await rpc(opts, "org_applications", {});
    print(opts, r, () =>
      r.applications.length === 0
        ? ["no applications waiting"]
        : r.applications.map((a) => `${a.account}  applied ${new Date(a.at).toISOString()}`),
    );
  });

  const msg = program.command("msg").description("signed messages between members");
  node(msg, "send", "send a direct message to a member, or to the whole organization with --group")
    .argument("<text>", "the message (up to 4096 bytes)")
    .option("--to <account>", "the addressee")
    .option("--group", "send to every member on the organization's topic")
    .option("--from <account>", "the sender (default: this node's account)")
    .action(async (text: string, opts: NodeOpts & { to?: string; group?: boolean; from?: string }) => {
      if ((opts.to === undefined) === (opts.group !== true))
        throw new CliError("say either --to <account> or --group");
      if (text.length === 0 || Buffer.byteLength(text) > 4096)
        throw new CliError("the text is 1 to 4096 bytes");
      const r = await rpc(opts, "msg_send", {
        text,
        ...(opts.to === undefined ? {} : { to: accountArg(opts.to, "--to") }),
        ...(opts.from === undefined ? {} : { from: accountArg(opts.from, "--from") }),
      });
      print(opts, r, () => ["sent"]);
    });
  node(msg, "list", "messages this node received (the last 1,000)").action(async (opts: NodeOpts) => {
    const r = await rpc(opts, "msg_list", {});
    print(opts, r, () =>
      r.messages.map(
        (m) => `${new Date(m.at).toISOString()}  ${m.from}${m.group ? " (group)" : ""}: ${m.text}`,
      ),
    );
  });

  node(program, "peers", "this node in the peer-to-peer network: peer id, addresses, connected peers").action(
    async (opts: NodeOpts) => {
      const n = await rpc(opts, "net_info", {});
      print(opts, n, () =>
        n.enabled
          ? [
              `peer id  ${n.peerId}`,
              ...n.addrs.map((a) => `listen   ${a}`),
              `peers    ${n.peers}`,
              `joined   ${n.joined ?? "(none)"}`,
            ]
          : ["the network is off on this node (net.enabled is false)"],
      );
    },
  );
}
