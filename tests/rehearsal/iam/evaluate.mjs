// IAM policy evaluation for the stack rehearsal, one request per line.
//
// stdin, one JSON object per line:
//   {"id": 1, "principal": "<arn>", "policies": [{"name": "...", "document": {...}}],
//    "action": "dynamodb:PutItem", "resource": "<arn>", "context": {"aws:SourceArn": "..."}}
// stdout, one line per request, in any order:
//   {"id": 1, "decision": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Error", "detail": "..."}
//
// The evaluator is @cloud-copilot/iam-simulate (identity policies, resources, every condition
// operator). It is a test tool fetched by `make rehearse` into this folder; nothing of it ships.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const ACCOUNT = '123456789012'

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

async function evaluate(req) {
  const simulation = {
    identityPolicies: req.policies.map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: undefined,
    request: {
      action: req.action,
      principal: req.principal,
      resource: { accountId: ACCOUNT, resource: req.resource },
      contextVariables: req.context || {},
    },
  }
  const result = await runSimulation(simulation, {})
  if (result.resultType === 'error' || result.errors) {
    return { decision: 'Error', detail: JSON.stringify(result.errors || result).slice(0, 500) }
  }
  return { decision: result.overallResult, detail: '' }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  let req
  try {
    req = JSON.parse(line)
  } catch (e) {
    reply({ id: null, decision: 'Error', detail: `not JSON: ${e}` })
    continue
  }
  try {
    reply({ id: req.id, ...(await evaluate(req)) })
  } catch (e) {
    reply({ id: req.id, decision: 'Error', detail: String(e).slice(0, 500) })
  }
}
