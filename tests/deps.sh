#!/bin/sh
# Install the Debian packages a target needs, only those missing.
# usage: tests/deps.sh check|demo
set -e
build="make gcc pkg-config libnftables-dev libnftnl-dev libmnl-dev
       libnetfilter-conntrack-dev libncurses-dev libreadline-dev"
tools="nftables iptables conntrack iproute2 tmux socat iputils-ping time"
case "$1" in
# openssh-server: probation_ssh runs a private sshd (never the machine's)
# clang-14, libclang-rt-14-dev: the snapshot reader's fuzzer (libFuzzer)
# ansible-core: tests/integration/ansible.sh runs contrib/ansible/ for real
# ipset: the corpus's iptables rules that match an ipset (-m set)
check) want="$build libcmocka-dev $tools python3 procps openssh-server openssh-client valgrind
	     clang-14 libclang-rt-14-dev ansible-core ipset" ;;
demo)  want="$build $tools" ;;
*) echo "usage: $0 check|demo" >&2; exit 2 ;;
esac
missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "nfpilot: missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
