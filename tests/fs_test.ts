import { assert, assertEquals, assertThrows } from "./helpers/assert.ts";
import { assertWritableOutput, writeFileAtomic } from "../lib/fs.ts";
import { IoError, OutputExistsError } from "../lib/errors.ts";

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("writeFileAtomic writes the whole file and leaves nothing else beside it", () => {
  const dir = Deno.makeTempDirSync();
  const bytes = crypto.getRandomValues(new Uint8Array(60000));
  writeFileAtomic(`${dir}/out.p7s`, bytes);
  assertEquals(Deno.readFileSync(`${dir}/out.p7s`), bytes);
  assertEquals(entries(dir), ["out.p7s"]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("an existing output is refused without force (exit 7) and replaced with it", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/out`, "old");
  const error = assertThrows(() => writeFileAtomic(`${dir}/out`, new Uint8Array([1])), OutputExistsError);
  assertEquals(error.exitCode, 7);
  assertThrows(() => assertWritableOutput(`${dir}/out`), OutputExistsError);
  assertEquals(Deno.readTextFileSync(`${dir}/out`), "old");
  assertEquals(entries(dir), ["out"]);
  writeFileAtomic(`${dir}/out`, new Uint8Array([0x41]), { force: true });
  assertEquals(Deno.readTextFileSync(`${dir}/out`), "A");
  assertEquals(entries(dir), ["out"]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a missing directory or a directory as output is an I/O error (exit 7)", () => {
  const dir = Deno.makeTempDirSync();
  assertEquals(assertThrows(() => writeFileAtomic(`${dir}/no/such/out`, new Uint8Array(1)), IoError).exitCode, 7);
  assertThrows(() => writeFileAtomic(dir, new Uint8Array(1), { force: true }), IoError);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test({
  name: "a full disk leaves neither the output nor a temporary file",
  ignore: Deno.env.get("KORTTI_TEST_STACK") !== "1" || Deno.uid() !== 0,
  fn() {
    // A 64 KiB tmpfs in the test's private mount namespace stands in for a full disk.
    const dir = Deno.makeTempDirSync();
    const mounted = new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir] }).outputSync();
    assert(mounted.success, new TextDecoder().decode(mounted.stderr));
    try {
      const error = assertThrows(() => writeFileAtomic(`${dir}/big.p7m`, new Uint8Array(1024 * 1024)), IoError);
      assertEquals(error.exitCode, 7);
      assertEquals(entries(dir), []);
    } finally {
      new Deno.Command("umount", { args: [dir] }).outputSync();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
