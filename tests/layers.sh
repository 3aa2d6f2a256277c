#!/bin/sh
# make layers: every #include "..." of the program checked against the
# table of layers the Makefile passes, one argument per layer:
#   "LAYER: WHAT IT MAY INCLUDE"      (main: the files at the top, main.c)
# An include names its file from the top ("nft/nl.h"), even in its own
# folder. Only ui/ includes ncurses. Prints each break; exit 1 if any.
cd "$(dirname "$0")/.." || exit 1
table=$(printf '%s\n' "$@")
bad=0

allowed() { # LAYER: its line of the table, or nothing
	printf '%s\n' "$table" | sed -n "s/^$1: *//p;s/^$1:\$/ /p" | head -1
}

for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]'); do
	case $f in
	tests/*|build/*) continue ;;
	*/*) layer=${f%%/*} ;;
	*) layer=main ;;
	esac
	deps=$(allowed "$layer")
	if [ -z "$deps" ] && ! printf '%s\n' "$table" | grep -q "^$layer:"; then
		echo "$f: folder '$layer' is no layer of the Makefile's table (LAYERS, DEPS_$layer)"
		bad=1
		continue
	fi
	if [ "$layer" != ui ] && grep -qE '#include <(n?curses|ncursesw/|readline/)' "$f"; then
		echo "$f: includes ncurses or readline: only ui/ talks to the terminal"
		bad=1
	fi
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		case $inc in
		*/*) to=${inc%%/*} ;;
		*) echo "$f: #include \"$inc\": name it from the top (its folder first)"; bad=1; continue ;;
		esac
		[ -e "$inc" ] || { echo "$f: #include \"$inc\": no such file"; bad=1; continue; }
		[ "$to" = "$layer" ] && continue
		case " $deps " in
		*" $to "*) ;;
		*) echo "$f: #include \"$inc\": $layer/ may not use $to/ (it may use: ${deps:-nothing})"
		   bad=1 ;;
		esac
	done
done
[ $bad = 0 ] && echo "layers: every include follows the table"
exit $bad
