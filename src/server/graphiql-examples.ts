/** Shown on top of the examples when no admin key is configured. */
export const OPEN_MODE_BANNER = `# !!! OPEN DEVELOPMENT MODE: no admin key is configured, so this gateway serves every
# !!! request without authentication. Set SWITCHYARD_ADMIN_KEY to require keys.

`;

/** Ready-made operations shown in GraphiQL's editor on first load. */
export const GRAPHIQL_DEFAULT_QUERY = `# Welcome to Switchyard. Pick an operation with the ▶ button.
# With no config, the built-in mock provider serves mock-small, mock-large and mock-embed.

mutation CreateCompletion {
  createCompletion(
    input: {
      model: "mock-small"
      messages: [
        { role: SYSTEM, content: "You are terse." }
        { role: USER, content: "What does an LLM gateway do?" }
      ]
      maxOutputTokens: 64
      metadata: [{ key: "feature", value: "graphiql-demo" }]
    }
  ) {
    requestId
    model
    provider
    content
    finishReason
    usage { inputTokens outputTokens cachedInputTokens source }
    cost { usd micros }
    latencyMs
  }
}

subscription StreamCompletion {
  completionStream(
    input: { model: "mock-small", messages: [{ role: USER, content: "Stream a short answer." }] }
  ) {
    __typename
    ... on CompletionStart { requestId model provider }
    ... on CompletionTextDelta { text }
    ... on CompletionFinish { finishReason usage { inputTokens outputTokens source } cost { usd } ttftMs }
    ... on CompletionError { code message }
  }
}

mutation CreateEmbedding {
  createEmbedding(input: { model: "mock-embed", input: ["hello world"], dimensions: 8 }) {
    model
    dimensions
    vectors { index values }
    usage { inputTokens }
  }
}

query Catalog {
  models { name kind provider capabilities contextWindow pricing { inputPerMillion outputPerMillion version } }
  providers { id type models health { requests errors errorRate latencyMs } }
}

query RecentRequests {
  requests(first: 10) {
    edges {
      node {
        requestId time frontDoor requestedModel servedModel provider status errorCode
        usage { inputTokens outputTokens source }
        cost { usd }
        latencyMs ttftMs
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;
