-- wrk script: HTTP/1.1 pipelining. Every write carries `depth` GET requests
-- for the URL's path (wrk counts each response as one request).
-- Usage: wrk -s tools/bench/pipeline.lua URL -- [depth]   (depth defaults to 16)
-- Not executable on purpose: `make bench` runs every executable in tools/bench.

init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil, wrk.path)
  end
  req = table.concat(r)
end

request = function()
  return req
end
