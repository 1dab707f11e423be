-- Argo CD health check for workerpool.dev/WorkerPool (Lua 5.1, as Argo CD's gopher-lua runs it).
-- Argo CD sets `obj` to the live WorkerPool; the script returns {status, message}.
-- It reads the same kstatus conditions Flux reads, in the same order, so both tools agree:
--   being deleted                               -> Progressing
--   status.observedGeneration ~= generation     -> Progressing (the operator has not seen the edit yet)
--   Stalled=True                                -> Degraded    (needs a person: bad spec, missing target, deadline)
--   Reconciling=True                            -> Progressing (rolling out or scaling)
--   Ready=True with reason Paused               -> Suspended   (frozen on purpose, as the operator decided it)
--   Ready=True                                  -> Healthy
-- Suspended follows the operator's decision, not spec.paused: spec.replicas pins the size even
-- while spec.paused is set, and the pool is then Ready with reason Pinned, so Healthy.
--   anything else, including no status yet     -> Progressing
-- Installed through manifests/argocd/argocd-cm-patch.yaml, which must hold this file verbatim.

local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- "Reason: message", or whichever of the two is present.
local function describe(c)
  local reason = c.reason or ""
  local message = c.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  return reason .. message
end

if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  return hs
end

local generation = obj.metadata.generation
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling)
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" and ready.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = describe(ready)
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
if ready ~= nil then
  hs.message = "Not ready: " .. describe(ready)
else
  hs.message = "Waiting for the Ready condition"
end
return hs
