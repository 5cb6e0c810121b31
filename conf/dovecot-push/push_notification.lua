-- Dovecot's push_notification Lua driver in LMTP (SPEC 5a): a delivery into INBOX of mail the
-- account did not send itself sets /private/messagenew on the mailbox; chatmail-metadata, the
-- METADATA dict, then queues one notification per device token. Nothing here waits on the
-- network: the dict only writes the queue.

function dovecot_lua_notify_begin_txn(user)
  return user
end

function dovecot_lua_notify_event_message_new(user, event)
  if event.mailbox ~= "INBOX" then
    return
  end
  local from = string.lower(event.from_address or "")
  if from == string.lower(user.username) then
    return
  end
  local mailbox = user:mailbox(event.mailbox)
  -- metadata_set needs an open mailbox: sync opens it
  mailbox:sync()
  mailbox:metadata_set("/private/messagenew", "")
  mailbox:free()
end

function dovecot_lua_notify_end_txn(ctx, success)
end
