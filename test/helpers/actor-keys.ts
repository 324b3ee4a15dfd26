import { generateKeyPairSync } from "node:crypto";

export interface ActorKeyPair {
  publicPem: string;
  privateJwk: JsonWebKey;
}

/** An RSA key pair per name, made on first use: the keys a fake remote server's actors sign with. */
export function actorKeys(): (name: string) => ActorKeyPair {
  const keys = new Map<string, ActorKeyPair>();
  return (name) => {
    let pair = keys.get(name);
    if (!pair) {
      const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      pair = { publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateJwk: privateKey.export({ format: "jwk" }) };
      keys.set(name, pair);
    }
    return pair;
  };
}
