// Independent in-browser check of a round's proof with WebCrypto (not a call to the server):
// sha256(serverSeed) = seedHash, sha256(clientSeeds joined by "\n") = clientSeedsHash, and every
// draw = HMAC-SHA256(serverSeed, clientSeedsHash:roundId:nonce) read as the published algorithm says.
const enc = new TextEncoder();

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256hex(text) {
  return hex(await crypto.subtle.digest("SHA-256", enc.encode(text)));
}

export async function uniform(key, seedsHash, roundId, nonce) {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(`${seedsHash}:${roundId}:${nonce}`)));
  let u = 0n;
  for (const b of mac.slice(0, 6)) u = (u << 8n) | BigInt(b);
  return u;
}

// -> {ok, checked, problems: [..]}
export async function checkProof(p) {
  const problems = [];
  if (!p.serverSeed) return {ok: false, checked: 0, problems: ["not revealed"]};
  if (await sha256hex(p.serverSeed) !== p.seedHash) problems.push("sha256(serverSeed) != seedHash");
  if (p.clientSeedsHash && await sha256hex(p.clientSeeds.join("\n")) !== p.clientSeedsHash) {
    problems.push("client seeds do not hash to clientSeedsHash");
  }
  const key = await crypto.subtle.importKey("raw", enc.encode(p.serverSeed), {name: "HMAC", hash: "SHA-256"},
    false, ["sign"]);
  for (const d of p.draws) {
    const u = await uniform(key, p.clientSeedsHash, p.roundId, d.nonce);
    const got = d.kind === "pick" ? Number((u * BigInt(d.n)) >> 48n) : u * 10000n < (BigInt(d.pBps) << 48n);
    if (got !== d.result) problems.push(`draw ${d.nonce} (${d.use}): ${got} != ${d.result}`);
  }
  return {ok: problems.length === 0, checked: p.draws.length, problems};
}
