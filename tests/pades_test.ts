/**
 * PAdES: a small PDF with an empty signature field is made here (byte ranges written by hand), its byte-range digest
 * is signed with `kortti sign --format cms-pades --digest`, the CMS is embedded, and poppler's `pdfsig` must report
 * the signature valid (trust in the test root aside).
 */
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { runKortti } from "./helpers/run_kortti.ts";
import { createHash } from "node:crypto";

type ByteRange = [number, number, number, number];

/** A one-page PDF with a signature dictionary whose /Contents is a zero-filled placeholder of `size` bytes. */
function pdfWithPlaceholder(size: number): { pdf: Uint8Array; byteRange: ByteRange } {
  const slot = "#".repeat(10);
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /SigFlags 3 >> >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Annots [5 0 R] >>",
    "<< /Length 10 >>\nstream\n0 0 m 1 1 l\nendstream",
    "<< /Type /Annot /Subtype /Widget /FT /Sig /Rect [0 0 0 0] /F 132 /T (Signature1) /P 3 0 R /V 6 0 R >>",
    `<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 ${slot} ${slot} ${slot}] ` +
    `/Contents <${"0".repeat(size * 2)}> /M (D:20260101000000Z) >>`,
  ];
  let text = "%PDF-1.7\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(text.length);
    text += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = text.length;
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) text += `${String(offset).padStart(10, "0")} 00000 n \n`;
  text += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  const start = text.indexOf("/Contents <") + "/Contents ".length;
  const end = text.indexOf(">", start) + 1;
  const byteRange: ByteRange = [0, start, end, text.length - end];
  // Same width as the placeholder, so no offset moves.
  text = text.replace(
    `[0 ${slot} ${slot} ${slot}]`,
    `[0 ${byteRange.slice(1).map((n) => String(n).padEnd(10, " ")).join(" ")}]`,
  );
  return { pdf: new TextEncoder().encode(text), byteRange };
}

function byteRangeDigest(pdf: Uint8Array, [, a, b, c]: ByteRange, hash: string): string {
  return createHash(hash).update(pdf.subarray(0, a)).update(pdf.subarray(b, b + c)).digest("hex");
}

function embed(pdf: Uint8Array, [, a, b]: ByteRange, cms: Uint8Array): Uint8Array {
  const hex = Array.from(cms, (x) => x.toString(16).padStart(2, "0")).join("");
  assert(hex.length <= b - a - 2, "the CMS fits the placeholder");
  const out = pdf.slice();
  out.set(new TextEncoder().encode(hex), a + 1);
  return out;
}

for (const [profile, hash] of [["v4", "sha384"], ["v3", "sha256"], ["org", "sha256"]]) {
  Deno.test(`PAdES (${profile}, ${hash}): pdfsig reports the embedded signature valid`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "kortti-pades-" });
    try {
      const { pdf, byteRange } = pdfWithPlaceholder(8192);
      const run = await runKortti([
        "sign",
        `--virtual-card=${profile}`,
        "--format",
        "cms-pades",
        "--hash",
        hash,
        "--digest",
        byteRangeDigest(pdf, byteRange, hash),
        "--out",
        `${dir}/sig.p7s`,
        "--pin-env",
        "PADES_PIN",
      ], { env: { PADES_PIN: "123456" } });
      assertEquals(run.code, 0, run.stderr);
      await Deno.writeFile(`${dir}/signed.pdf`, embed(pdf, byteRange, await Deno.readFile(`${dir}/sig.p7s`)));
      const checked = await new Deno.Command("pdfsig", { args: [`${dir}/signed.pdf`], stdout: "piped" }).output();
      const report = new TextDecoder().decode(checked.stdout);
      assertMatch(report, /Signature Validation: Signature is Valid\./);
      assertMatch(report, /Signature Type: ETSI\.CAdES\.detached/);
      assertMatch(report, /Total document signed/);
      // Tampering with a signed byte breaks it.
      const tampered = embed(pdf, byteRange, await Deno.readFile(`${dir}/sig.p7s`));
      tampered[20] ^= 1;
      await Deno.writeFile(`${dir}/tampered.pdf`, tampered);
      const bad = await new Deno.Command("pdfsig", { args: [`${dir}/tampered.pdf`], stdout: "piped" }).output();
      assert(!new TextDecoder().decode(bad.stdout).includes("Signature is Valid."));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
