-- doveauth under Dovecot 2.4, which has no checkpassword driver: the Lua passdb of dovecot.conf
-- runs this in a blocking auth worker. Each login execs doveauth exactly as Dovecot 2.3's
-- checkpassword driver does: the request "user\0password\0" on fd 3 (a pipe: the password is
-- never on a command line or in the environment), "checkpassword-reply" as its reply program
-- and a pipe on fd 4, on which doveauth writes that program's answer itself (the tab-separated
-- fields user=, userdb_home=, userdb_uid= ...). Its exit code is the verdict: 0 a login, 1 a
-- failed one, anything else a temporary failure. doveauth decides everything; this only
-- carries the request and the answer. Needs lua-posix (Debian's lua-posix).
local unistd = require("posix.unistd")
local wait = require("posix.sys.wait")
local dirent = require("posix.dirent")

local doveauth = nil

-- lua_settings { doveauth = PATH } of the passdb, handed to script_init or, in other 2.4
-- releases, to auth_passdb_init: both take it.
function script_init(args)
  doveauth = args and args["doveauth"]
  return 0
end

function auth_passdb_init(args)
  doveauth = doveauth or (args and args["doveauth"])
end

-- Dovecot's tab escaping, undone: \001 then 1, t, r, n.
local unescapes = { ["1"] = "\001", t = "\t", r = "\r", n = "\n" }
local function unescape(value)
  return (value:gsub("\001(.)", unescapes))
end

-- Dovecot 2.4 names the quota limit quota_storage_size; doveauth answers quota_rule
-- (*:storage=<KiB>K) as 2.3 reads it: the same limit, under 2.4's name.
local function fields_of(answer)
  local fields = {}
  for field in answer:gmatch("[^\t]+") do
    local key, value = field:match("^([^=]+)=(.*)$")
    if key == "userdb_quota_rule" then
      key, value = "userdb_quota_storage_size", value:match("^%*:storage=(%d+K)$")
    end
    if key and value then
      fields[key] = unescape(value)
    end
  end
  return fields
end

-- Reads fd until end of file (at most 64 KiB).
local function read_all(fd)
  local parts, size = {}, 0
  while size < 65536 do
    local chunk = unistd.read(fd, 4096)
    if chunk == nil or chunk == "" then
      break
    end
    parts[#parts + 1] = chunk
    size = size + #chunk
  end
  return table.concat(parts)
end

local function run_doveauth(user, password)
  local request_r, request_w = unistd.pipe()
  if not request_r then
    return nil, "pipe: " .. tostring(request_w)
  end
  local answer_r, answer_w = unistd.pipe()
  if not answer_r then
    unistd.close(request_r)
    unistd.close(request_w)
    return nil, "pipe: " .. tostring(answer_w)
  end
  local pid, err = unistd.fork()
  if pid == nil then
    for _, fd in ipairs({ request_r, request_w, answer_r, answer_w }) do
      unistd.close(fd)
    end
    return nil, "fork: " .. tostring(err)
  end
  if pid == 0 then
    -- fd 3: the request, fd 4: the answer; nothing else of the worker stays open past exec
    unistd.close(request_w)
    unistd.close(answer_r)
    if answer_w == 3 then
      answer_w = unistd.dup(answer_w)
    end
    if unistd.dup2(request_r, 3) and unistd.dup2(answer_w, 4) then
      for _, name in ipairs(dirent.dir("/proc/self/fd")) do
        local fd = tonumber(name)
        if fd and fd > 4 then
          unistd.close(fd)
        end
      end
      unistd.exec(doveauth, { "checkpassword-reply" })
    end
    unistd._exit(111)
  end
  unistd.close(request_r)
  unistd.close(answer_w)
  unistd.write(request_w, user .. "\0" .. password .. "\0\0")
  unistd.close(request_w)
  local answer = read_all(answer_r)
  unistd.close(answer_r)
  local _, how, status = wait.wait(pid)
  if how ~= "exited" then
    return nil, "doveauth ended by signal " .. tostring(status)
  end
  return status, answer
end

function auth_password_verify(request, password)
  if doveauth == nil then
    return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "lua_settings: doveauth is not set"
  end
  -- the line the tests count, as Dovecot 2.3's checkpassword driver logs it (auth debug)
  request:log_debug("execute: " .. doveauth)
  local status, answer = run_doveauth(request.user, password)
  if status == 0 then
    return dovecot.auth.PASSDB_RESULT_OK, fields_of(answer)
  elseif status == 1 then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
  elseif status == nil then
    return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "doveauth: " .. answer
  end
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "doveauth exited with " .. tostring(status)
end

-- A lookup without a password (no plaintext mechanism) is never answered: doveauth needs one.
function auth_passdb_lookup(request)
  return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, ""
end
