# Guest script (busybox sh): what the kernel measures for files whose security.ima names
# an algorithm other than ima_hash, for ima-sig entries with an EVM portable signature in
# security.evm, and for the evm-sig template's xattr fields. One policy, one rule per
# template, told apart by the file owner:
#   fowner=1001 ima-ng   fowner=1002 ima-sig   fowner=1003 evm-sig
step() { echo "## $*"; }
mkdir -p /data && mount -t tmpfs tmpfs /data
cd /data
mk() { echo "$2" > "$1"; chown "$3" "$1"; }
# ima-ng: the digest's algorithm follows the label, right or wrong.
for f in ng-sha1 ng-md5 ng-sha512 ng-wrong512 ng-sha3 ng-badalgo ng-sig384 ng-none; do mk $f "$f" 1001; done
setfattr -n security.ima -v 0x01$(sha1sum ng-sha1 | cut -c1-40) ng-sha1
setfattr -n security.ima -v 0x01$(md5sum ng-md5 | cut -c1-32) ng-md5
setfattr -n security.ima -v 0x0406$(sha512sum ng-sha512 | cut -c1-128) ng-sha512
setfattr -n security.ima -v 0x0406$(printf '%0128d' 0) ng-wrong512
setfattr -n security.ima -v 0x0414$(printf '%064d' 0) ng-sha3
setfattr -n security.ima -v 0x04ff$(printf '%064d' 0) ng-badalgo
setfattr -n security.ima -v 0x030205aabbccdd0002beef ng-sig384
# ima-sig: security.ima's signature, else security.evm's portable signature.
for f in sig-evm sig-evm-hash sig-both sig-sha1 sig-evmsig-sha512; do mk $f "$f" 1002; done
setfattr -n security.evm -v 0x050204aabbccdd0003010203 sig-evm
setfattr -n security.ima -v 0x0404$(sha256sum sig-evm-hash | cut -c1-64) sig-evm-hash
setfattr -n security.evm -v 0x050204aabbccdd0003040506 sig-evm-hash
setfattr -n security.ima -v 0x030204aabbccdd0002abcd sig-both
setfattr -n security.evm -v 0x050204aabbccdd0003070809 sig-both
setfattr -n security.ima -v 0x01$(sha1sum sig-sha1 | cut -c1-40) sig-sha1
setfattr -n security.evm -v 0x050206aabbccdd0001ee sig-evmsig-sha512
# evm-sig: EVM's protected xattrs in EVM's order, owner, group, mode.
for f in evm-all evm-none evm-ima; do mk $f "$f" 1003; done
chgrp 77 evm-all evm-none evm-ima; chmod 0640 evm-all; chmod 0755 evm-ima
setfattr -n security.capability -v 0x0100000200040000000000000000000000000000 evm-all
setfattr -n security.ima -v 0x0404$(sha256sum evm-all | cut -c1-64) evm-all
setfattr -n security.selinux -v 0x73797374656d5f753a6f626a6563745f723a746d705f743a733000 evm-all
setfattr -n security.SMACK64 -v 0x5f evm-all
setfattr -n security.SMACK64MMAP -v 0x4d4d evm-all
setfattr -n security.apparmor -v 0x756e636f6e66696e6564 evm-all
setfattr -n user.other -v 0x01 evm-all
setfattr -n security.evm -v 0x050204aabbccdd00021122 evm-all
setfattr -n security.ima -v 0x0402$(sha1sum evm-ima | cut -c1-40) evm-ima
step "xattrs"
for f in *; do echo "# $f"; getfattr -d -m - -e hex $f 2>&1 | grep -v '^#' | grep .; done
step "policy"
printf 'measure func=FILE_CHECK mask=MAY_READ fowner=1001 template=ima-ng\nmeasure func=FILE_CHECK mask=MAY_READ fowner=1002 template=ima-sig\nmeasure func=FILE_CHECK mask=MAY_READ fowner=1003 template=evm-sig\n' > /sys/kernel/security/ima/policy
echo "exit=$?"
step "cat every file"
for f in ng-sha1 ng-md5 ng-sha512 ng-wrong512 ng-sha3 ng-badalgo ng-sig384 ng-none sig-evm sig-evm-hash sig-both sig-sha1 sig-evmsig-sha512 evm-all evm-none evm-ima; do cat /data/$f >/dev/null; echo "$f $?"; done
