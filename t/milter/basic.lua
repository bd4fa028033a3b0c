-- miltertest script: the real postern-milter binary over its socket.
-- Globals from the command line: MILTER, CONF, SOCK, BADCONF, BADSOCK,
-- ACCEPTCONF, ACCEPTSOCK, SPOOLCONF, SPOOLSOCK, SPOOLACCEPTCONF,
-- SPOOLACCEPTSOCK (see t0700-miltertest.sh).

local function expect(cond, what)
  if not cond then error(what) end
end

local function start_message(conn, from, rcpts)
  mt.macro(conn, SMFIC_MAIL, "i", "4F00AA")
  expect(mt.mailfrom(conn, from) == nil, "mailfrom")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "mailfrom reply")
  for _, r in ipairs(rcpts) do
    expect(mt.rcptto(conn, r) == nil, "rcptto")
    expect(mt.getreply(conn) == SMFIR_CONTINUE, "rcptto reply")
  end
end

local function headers(conn, list)
  for _, h in ipairs(list) do
    expect(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
    expect(mt.getreply(conn) == SMFIR_CONTINUE, "header reply")
  end
  expect(mt.eoh(conn) == nil, "eoh")
end

local function connect(sock)
  local conn = mt.connect(sock, 60, 0.1)
  expect(conn ~= nil, "connect " .. sock)
  expect(mt.conninfo(conn, "mx.example.com", "192.0.2.1") == nil, "conninfo")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "conninfo reply")
  return conn
end

local function main()
  mt.set_timeout(30)
  mt.startfilter(MILTER, "-F", "-c", CONF, "-p", SOCK)

  -- 1. forged info headers are removed, the rest is untouched
  local conn = connect(SOCK)
  start_message(conn, "<alice@example.com>", { "<bob@example.org>" })
  headers(conn, {
    { "From", "alice@example.com" },
    { "Subject", "hello" },
    { "X-Postern-Info-Signer-Verified-0-0", "True" },
    { "X-CipherMail-Info-SMIME-Signed", "True" },
    { "X-Postern-Information", "not ours" },
  })
  expect(mt.bodystring(conn, "plain text\r\n") == nil, "body")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "body reply")
  expect(mt.eom(conn) == nil, "eom")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "eom reply (1)")
  expect(mt.eom_check(conn, MT_HDRDELETE, "X-Postern-Info-Signer-Verified-0-0"),
    "forged X-Postern-Info header not deleted")
  expect(mt.eom_check(conn, MT_HDRDELETE, "X-CipherMail-Info-SMIME-Signed"),
    "forged legacy header not deleted")
  expect(not mt.eom_check(conn, MT_HDRDELETE, "X-Postern-Information"),
    "a header that only looks like ours was deleted")
  expect(not mt.eom_check(conn, MT_BODYCHANGE), "body changed")

  -- 2. same connection, next message: S/MIME for an external recipient
  start_message(conn, "<alice@example.com>",
    { "<bob@example.org>", "<carol@example.net>" })
  headers(conn, {
    { "From", "alice@example.com" },
    { "MIME-Version", "1.0" },
    { "Content-Type", "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m" },
    { "Content-Transfer-Encoding", "base64" },
  })
  expect(mt.bodystring(conn, "MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n") == nil, "body")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "body reply")
  expect(mt.eom(conn) == nil, "eom")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "eom reply (2)")
  expect(mt.eom_check(conn, MT_HDRADD, "X-Postern-Info-Decryption-Skipped",
    "recipient carol@example.net is not internal"), "no Decryption-Skipped header")
  expect(not mt.eom_check(conn, MT_BODYCHANGE), "body changed (2)")

  -- 3. a message aborted half way, then a complete one
  start_message(conn, "<alice@example.com>", { "<bob@example.org>" })
  expect(mt.abort(conn) == nil, "abort")
  start_message(conn, "<alice@example.com>", { "<bob@example.org>" })
  headers(conn, { { "From", "alice@example.com" } })
  expect(mt.bodystring(conn, "after abort\r\n") == nil, "body")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "body reply")
  expect(mt.eom(conn) == nil, "eom")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "eom reply (3)")
  mt.disconnect(conn)

  -- 4. a connection that closes without any message
  conn = connect(SOCK)
  mt.disconnect(conn)

  -- 5. an unreadable database: tempfail, never "accept unprocessed"
  mt.startfilter(MILTER, "-F", "-c", BADCONF, "-p", BADSOCK)
  conn = connect(BADSOCK)
  start_message(conn, "<alice@example.com>", { "<bob@example.org>" })
  headers(conn, { { "From", "alice@example.com" } })
  expect(mt.bodystring(conn, "x\r\n") == nil, "body")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "body reply")
  expect(mt.eom(conn) == nil, "eom")
  expect(mt.getreply(conn) == SMFIR_TEMPFAIL, "eom reply (5) not tempfail")
  mt.disconnect(conn)

  local forged = {
    { "From", "alice@example.com" },
    { "X-Postern-Info-Signer-Verified-0-0", "True" },
    { "Subject", "hello" },
    { "X-CipherMail-Info-SMIME-Signed", "True" },
  }
  local big = string.rep("0123456789abcdef", 400) .. "\r\n"
  -- a new milter on conf/sock, one message with forged headers begun
  local function forged_message(conf, sock)
    mt.startfilter(MILTER, "-F", "-c", conf, "-p", sock)
    local c = connect(sock)
    start_message(c, "<alice@example.com>", { "<bob@example.org>" })
    headers(c, forged)
    return c
  end

  -- 6. the same failure with milter_failure_action = accept: the message
  --    passes, but never with a forged info header
  conn = forged_message(ACCEPTCONF, ACCEPTSOCK)
  expect(mt.bodystring(conn, "x\r\n") == nil, "body")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "body reply")
  expect(mt.eom(conn) == nil, "eom")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "eom reply (6) not accept")
  expect(mt.eom_check(conn, MT_HDRDELETE, "X-Postern-Info-Signer-Verified-0-0"),
    "accept: forged X-Postern-Info header not deleted")
  expect(mt.eom_check(conn, MT_HDRDELETE, "X-CipherMail-Info-SMIME-Signed"),
    "accept: forged legacy header not deleted")
  expect(not mt.eom_check(conn, MT_BODYCHANGE), "accept: body changed")
  mt.disconnect(conn)

  -- 7. the spool cannot spill to its directory (tempfail): the body
  --    chunk that hit it is answered with tempfail at once
  conn = forged_message(SPOOLCONF, SPOOLSOCK)
  expect(mt.bodystring(conn, big) == nil, "body")
  expect(mt.getreply(conn) == SMFIR_TEMPFAIL, "body reply (7) not tempfail")
  mt.disconnect(conn)

  -- 8. the same with accept: collected on, passed with forgeries removed
  conn = forged_message(SPOOLACCEPTCONF, SPOOLACCEPTSOCK)
  expect(mt.bodystring(conn, big) == nil, "body")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "body reply (8)")
  expect(mt.bodystring(conn, "more\r\n") == nil, "body")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "body reply (8b)")
  expect(mt.eom(conn) == nil, "eom")
  expect(mt.getreply(conn) == SMFIR_CONTINUE, "eom reply (8) not accept")
  expect(mt.eom_check(conn, MT_HDRDELETE, "X-Postern-Info-Signer-Verified-0-0"),
    "spool accept: forged header not deleted")
  expect(not mt.eom_check(conn, MT_BODYCHANGE), "spool accept: body changed")
  mt.disconnect(conn)
end

local ok, err = pcall(main)
if not ok then
  mt.echo("*** FAIL: " .. tostring(err))
  error(err)
end
mt.echo("ok: all milter cases passed")
