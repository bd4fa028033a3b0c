#!/bin/bash
# t0706-contrib: the integration snippets in contrib/ agree with the
# program.  Postfix reads contrib/postfix/main.cf.milter and
# master.cf.milter without complaint (postconf), postern-milter comes
# first in smtpd_milters and nowhere in non_smtpd_milters, the submission
# service drops it; the socket in the Postfix, sendmail and systemd
# snippets is the default milter_socket; the systemd unit starts the
# milter in the foreground with options it accepts.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-build}
milter=$top/$O/bin/postern-milter
command -v postconf >/dev/null || { echo "skip: no postconf"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
c=$top/contrib

sock=$(sed -n 's/^#milter_socket = //p' "$top/conf/postern.conf")
[ "$sock" = "unix:/run/postern/milter.sock" ] || bad "conf/postern.conf milter_socket '$sock'"

mkdir "$tmp/pf"
cp "$c/postfix/main.cf.milter" "$tmp/pf/main.cf"
cp "$c/postfix/master.cf.milter" "$tmp/pf/master.cf"
postconf -c "$tmp/pf" -n >"$tmp/n" 2>"$tmp/err" || bad "postconf -n failed"
[ ! -s "$tmp/err" ] && ok "postconf reads main.cf.milter" || bad "postconf: $(cat "$tmp/err")"
first=$(postconf -c "$tmp/pf" -h smtpd_milters | tr ', ' '\n\n' | grep . | head -1)
[ "$first" = "$sock" ] && ok "postern-milter is the first smtpd milter" ||
    bad "first smtpd milter '$first', want $sock"
postconf -c "$tmp/pf" -h non_smtpd_milters | grep -q postern &&
    bad "postern-milter in non_smtpd_milters" || ok "not in non_smtpd_milters"
[ "$(postconf -c "$tmp/pf" -h milter_default_action)" = tempfail ] &&
    ok "milter_default_action = tempfail" || bad "milter_default_action"
postconf -c "$tmp/pf" -M >"$tmp/m" 2>"$tmp/err" || bad "postconf -M failed"
[ ! -s "$tmp/err" ] || bad "postconf -M: $(cat "$tmp/err")"
postconf -c "$tmp/pf" -P 'submission/inet/smtpd_milters' >"$tmp/p" 2>&1
grep -q postern "$tmp/p" && bad "submission keeps postern-milter: $(cat "$tmp/p")" ||
    ok "submission overrides smtpd_milters without postern-milter"
grep -q '^smtp .*smtpd$' "$tmp/m" && ok "master.cf.milter has the smtp service" ||
    bad "no smtp service in: $(cat "$tmp/m")"

grep -q "INPUT_MAIL_FILTER(\`postern', \`S=$sock, F=T" "$c/sendmail/postern-milter.mc" &&
    ok "sendmail: INPUT_MAIL_FILTER on $sock, F=T" || bad "sendmail snippet"
if command -v m4 >/dev/null; then
	out=$(printf 'define(`INPUT_MAIL_FILTER'"'"', `X$1, $2'"'"')dnl\n' |
	    cat - "$c/sendmail/postern-milter.mc" | m4)
	echo "$out" | grep -q "^Xpostern, S=$sock, F=T" &&
	    ok "sendmail: the .mc expands with m4" || bad "m4: $out"
fi

unit=$c/systemd/postern-milter.service
exec_line=$(sed -n 's/^ExecStart=//p' "$unit")
case "$exec_line" in
/usr/sbin/postern-milter\ -F\ *"-p $sock"*) ok "systemd: foreground, $sock" ;;
*) bad "systemd ExecStart '$exec_line'" ;;
esac
grep -q '^RuntimeDirectory=postern$' "$unit" && grep -q '^User=postern$' "$unit" &&
    grep -q '^Group=postfix$' "$unit" && ok "systemd: /run/postern as postern:postfix" ||
    bad "systemd: user, group or runtime directory"
# the options of ExecStart are ones the program takes (a usage error is 2)
args=${exec_line#/usr/sbin/postern-milter }
printf 'log_level = bogus\n' > "$tmp/bad.conf"
# shellcheck disable=SC2086
"$milter" -c "$tmp/bad.conf" $args >/dev/null 2>&1
[ $? -eq 1 ] && ok "systemd: ExecStart options parse" || bad "ExecStart options rejected"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
