// Lint rules, including the dependency direction: config <- core <- federation <- {server, workers}.
import tseslint from "typescript-eslint";

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          ...forbidden.map((group) => ({ group: [group], message: why })),
          { group: ["**/test/**"], message: "Production code never imports test helpers." },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ["node_modules/**", "data/**", "web/**", "dist/**", "test-artifacts/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: "Read configuration through config/ (loadConfig), not process.env.",
        },
      ],
    },
  },
  { files: ["config/**", "test/**", "bench/**", "*.config.*"], rules: { "no-restricted-syntax": "off" } },
  // Tests poke at arbitrary JSON responses; typing each one would only restate the assertions.
  { files: ["test/**"], rules: { "@typescript-eslint/no-explicit-any": "off" } },
  layer(["config/**"], ["**/core/**", "**/federation/**", "**/server/**", "**/workers/**"], "config/ is the bottom layer."),
  layer(
    ["core/**"],
    ["**/federation/**", "**/server/**", "**/workers/**", "express", "@fedify/*", "graphile-worker"],
    "core/ is the framework-free domain: it may import config/ only.",
  ),
  layer(["federation/**"], ["**/server/**", "**/workers/**", "express"], "federation/ may import config/ and core/ only."),
  layer(["server/**"], ["**/workers/**", "graphile-worker"], "server/ and workers/ never import each other."),
  layer(["workers/**"], ["**/server/**", "express"], "server/ and workers/ never import each other."),
);
