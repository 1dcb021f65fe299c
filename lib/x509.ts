/**
 * The one entry to `@peculiar/x509`: it needs the `reflect-metadata` polyfill loaded first, so every module of
 * kortti imports X.509 from here, never from the package directly.
 *
 * @example
 * ```ts
 * import { x509 } from "./x509.ts";
 * const cert = new x509.X509Certificate("-----BEGIN CERTIFICATE-----\n...");
 * ```
 * @module
 */

import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

export { x509 };
