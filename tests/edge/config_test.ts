import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "../_assert.ts";
import { loadMobileNet, UnknownModelError } from "../../mod.ts";
import { CONFIG_ENV, DEFAULT_CONFIG, readConfig } from "../../edge/config.ts";

function env(values: Record<string, string>) {
  return (name: string) => values[name];
}

Deno.test("edge config: defaults when nothing is set", () => {
  assertEquals(readConfig(env({})), {
    ...DEFAULT_CONFIG,
    weightsUrl: undefined,
    heads: undefined,
  });
  assertStrictEquals(DEFAULT_CONFIG.resize, "center-crop");
});

Deno.test("edge config: every named variable is read", () => {
  const config = readConfig(env({
    [CONFIG_ENV.model]: "0.25_224",
    [CONFIG_ENV.heads]: "/srv/heads",
    [CONFIG_ENV.resize]: "stretch",
    [CONFIG_ENV.precision]: "int8",
    [CONFIG_ENV.weightsUrl]: "https://example.com/weights/",
    [CONFIG_ENV.maxBodyBytes]: "1000",
    [CONFIG_ENV.maxBufferedBytes]: "5000",
    [CONFIG_ENV.bodyIdleMs]: "250",
    [CONFIG_ENV.bodyTimeoutMs]: "4000",
    [CONFIG_ENV.maxPixels]: "1000000",
    [CONFIG_ENV.maxInflight]: "3",
    [CONFIG_ENV.maxQueue]: "0",
    [CONFIG_ENV.retryAfterSeconds]: "5",
    [CONFIG_ENV.decode]: "inline",
    [CONFIG_ENV.decodeTimeoutMs]: "900",
    [CONFIG_ENV.basePath]: "/classify/",
  }));
  assertEquals(config, {
    model: "0.25_224",
    heads: "/srv/heads",
    resize: "stretch",
    precision: "int8",
    weightsUrl: "https://example.com/weights/",
    maxBodyBytes: 1000,
    maxBufferedBytes: 5000,
    bodyIdleMs: 250,
    bodyTimeoutMs: 4000,
    maxPixels: 1000000,
    maxInflight: 3,
    maxQueue: 0,
    retryAfterSeconds: 5,
    decode: "inline",
    decodeTimeoutMs: 900,
    basePath: "/classify",
  });
});

Deno.test("edge config: malformed values fail at start, naming the variable", () => {
  const bad: [string, string][] = [
    [CONFIG_ENV.maxBodyBytes, "10MB"],
    [CONFIG_ENV.maxBodyBytes, "0"],
    [CONFIG_ENV.maxPixels, "0"],
    [CONFIG_ENV.maxInflight, "0"],
    [CONFIG_ENV.maxInflight, "1.5"],
    [CONFIG_ENV.maxInflight, "abc"],
    [CONFIG_ENV.model, "1.0_224"],
    [CONFIG_ENV.model, "mobilenet"],
    [CONFIG_ENV.resize, "fill"],
    [CONFIG_ENV.resize, "Stretch"],
    [CONFIG_ENV.precision, "int4"],
    [CONFIG_ENV.precision, "INT8"],
    [CONFIG_ENV.maxQueue, "-1"],
    [CONFIG_ENV.weightsUrl, "file:///etc/passwd"],
    [CONFIG_ENV.weightsUrl, "not a url"],
    [CONFIG_ENV.basePath, "classify"],
    [CONFIG_ENV.basePath, "/a b"],
    [CONFIG_ENV.bodyIdleMs, "0"],
    [CONFIG_ENV.bodyTimeoutMs, "10s"],
    [CONFIG_ENV.decode, "thread"],
    [CONFIG_ENV.decodeTimeoutMs, "0"],
    // the bodies' budget must hold one largest body
    [CONFIG_ENV.maxBufferedBytes, String(DEFAULT_CONFIG.maxBodyBytes - 1)],
  ];
  for (const [name, value] of bad) {
    assertThrows(() => readConfig(env({ [name]: value })), RangeError, name);
  }
});

Deno.test("edge config: without --allow-env the defaults apply and nothing throws", async () => {
  const probe = new URL("./_probe.ts", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", probe.pathname, "/nonexistent", "/nonexistent"],
    env: { [CONFIG_ENV.maxQueue]: "7" },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await child.output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  const result = JSON.parse(new TextDecoder().decode(stdout));
  assertEquals(result.config.maxQueue, DEFAULT_CONFIG.maxQueue);
  assertEquals(result.envHome, "NotCapable");
});

Deno.test("edge config: the bodies' budget is 32 MiB, or one largest body when that is more", () => {
  assertStrictEquals(readConfig(env({})).maxBufferedBytes, 32 * 1024 * 1024);
  const big = readConfig(env({ [CONFIG_ENV.maxBodyBytes]: String(50 * 1024 * 1024) }));
  assertStrictEquals(big.maxBufferedBytes, 50 * 1024 * 1024);
});

Deno.test("edge config: MOBILENET_EDGE_MODEL takes what the library takes, and names the rest", async () => {
  for (const model of ["0.75_224", "mobilenet_v1_0.25_224", "./w", "w/", "/srv/w/manifest.json"]) {
    assertStrictEquals(readConfig(env({ [CONFIG_ENV.model]: model })).model, model);
  }
  // the names it refuses are the ones the library refuses as unknown (not as unreadable paths)
  for (const model of ["1.0_224", "0.5_224", "mobilenet"]) {
    assertThrows(() => readConfig(env({ [CONFIG_ENV.model]: model })), RangeError, "0.75_224");
    await assertRejects(() => loadMobileNet({ model }), UnknownModelError);
  }
});
