// The shim's compact encoder against the reference one in src/common/protocol.ts (encodeEventsBodyCompact), byte for
// byte: for every trace a w_* comparison left (OUT/trace.PID compact, OUT/fixed.PID the same records in encoding 0,
// split into messages alike), each fixed EVENTS body is decoded and re-encoded by the reference encoder, and must
// equal the shim's compact body. Both make the same choices (K and T when they apply, F/E/R/B for nonzero fields,
// the first record's timestamp as the base), so any difference is a bug on one side.
// Usage: node test/cross_encode.mjs PROTOCOL_BUNDLE.mjs DIR…  (run.sh bundles protocol.ts with esbuild first)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [bundle, ...dirs] = process.argv.slice(2);
const { decodeEventsBody, encodeEventsBodyCompact } = await import(bundle);

function eventsBodies(path) {
  const data = readFileSync(path);
  const out = [];
  for (let off = 0; off + 16 <= data.length;) {
    const type = data.readUInt16LE(off + 6), len = data.readUInt32LE(off + 8);
    if (type === 3) out.push(data.subarray(off + 16, off + 16 + len));
    off += 16 + len;
  }
  return out;
}

let messages = 0, events = 0;
for (const dir of dirs) {
  for (const f of readdirSync(dir).filter((n) => /^trace\.\d+$/.test(n))) {
    const compact = eventsBodies(join(dir, f)), fixed = eventsBodies(join(dir, f.replace('trace', 'fixed')));
    if (compact.length !== fixed.length) throw new Error(`${dir}/${f}: ${compact.length} compact EVENTS messages, ${fixed.length} fixed`);
    compact.forEach((c, i) => {
      const records = decodeEventsBody(new Uint8Array(fixed[i]));
      const ref = Buffer.from(encodeEventsBodyCompact(records));
      if (!ref.equals(c)) {
        let at = 0;
        while (at < ref.length && ref[at] === c[at]) at++;
        throw new Error(`${dir}/${f} message ${i} (${records.length} records): the shim's compact body differs from the reference encoder's at byte ${at} (lengths ${c.length}, ${ref.length})`);
      }
      messages++;
      events += records.length;
    });
  }
}
if (!messages) throw new Error('no EVENTS messages compared');
console.log(`${events} events in ${messages} messages byte-identical to the reference encoder`);
