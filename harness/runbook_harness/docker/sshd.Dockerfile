# An ssh host for the project's tests of the gate's host checks: OpenSSH's server with ps, ss and
# df, and a user `checks` who logs in only with the public key given in $AUTHORIZED_KEY at start.
# BASE is any Debian bookworm image (see Dockerfile); the build needs no context.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server procps iproute2 \
    && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_* \
    && useradd --create-home --shell /bin/sh checks \
    && install -d -m 700 -o checks -g checks /home/checks/.ssh \
    && install -m 600 -o checks -g checks /dev/null /home/checks/.ssh/authorized_keys \
    && mkdir -p /run/sshd
EXPOSE 22
# A host key of its own for each container, made at start: the test reads its public half.
CMD ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key \
    && printf '%s\n' "$AUTHORIZED_KEY" > /home/checks/.ssh/authorized_keys \
    && exec /usr/sbin/sshd -D -e -h /etc/ssh/ssh_host_ed25519_key -o PasswordAuthentication=no \
       -o KbdInteractiveAuthentication=no -o AllowUsers=checks
