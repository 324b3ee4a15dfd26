/** The key pairs every local actor gets at creation: RSA for HTTP Signatures, Ed25519 for Object Integrity Proofs. */
export interface ActorKeyJwks {
  rsaPublicJwk: JsonWebKey;
  rsaPrivateJwk: JsonWebKey;
  ed25519PublicJwk: JsonWebKey;
  ed25519PrivateJwk: JsonWebKey;
}

export async function generateActorKeys(): Promise<ActorKeyJwks> {
  const rsa = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const ed = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (key: CryptoKey) => crypto.subtle.exportKey("jwk", key);
  return {
    rsaPublicJwk: await jwk(rsa.publicKey),
    rsaPrivateJwk: await jwk(rsa.privateKey),
    ed25519PublicJwk: await jwk(ed.publicKey),
    ed25519PrivateJwk: await jwk(ed.privateKey),
  };
}
