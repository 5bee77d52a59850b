#!/bin/sh
# Runs a command in a fresh network namespace with only loopback up (plus the
# stand-in public address 192.0.2.10 on lo): as root with `unshare --net`, as a
# user with `unshare --map-root-user --net` where the kernel allows user
# namespaces. Where neither works the test is skipped (exit 77), loudly.
#
#     netns.sh IP COMMAND...
ip=$1
shift
inner="$ip link set lo up && $ip addr add 192.0.2.10/32 dev lo && exec \"\$@\""
if [ "$(id -u)" -eq 0 ] && unshare --net -- true 2>/dev/null; then
    exec unshare --net -- /bin/sh -c "$inner" sh "$@"
fi
if unshare --map-root-user --net -- true 2>/dev/null; then
    exec unshare --map-root-user --net -- /bin/sh -c "$inner" sh "$@"
fi
echo "SKIPPED: a network namespace needs root, or unprivileged user namespaces" \
     "(kernel.unprivileged_userns_clone / user.max_user_namespaces); run the tests as root" >&2
exit 77
