# Progress lines for the set-up scripts (sourced): one line per step with its duration, so a
# fresh machine's minutes of packages, build and image bootstrap never look like a hang.
#   progress_name=setup          # the prefix of every line
#   step "building arunner"      # starts a step; a long one says so at once: "setup: building arunner ..."
#   done_step "built build/arunner"   # "setup: built build/arunner (312.4 s)"
#   total                        # "setup: done (401.2 s)" since the script started
progress_name=${progress_name:-$(basename "$0")}
_progress_now() { date +%s.%N; }
_progress_script_start=$(_progress_now)
_progress_step_start=$_progress_script_start
_progress_elapsed() { awk -v a="$1" -v b="$(_progress_now)" 'BEGIN { printf "%.1f s", b - a }'; }
step() {
  _progress_step_start=$(_progress_now)
  if [ -n "${1:-}" ]; then
    echo "$progress_name: $1 ..."
  fi
}
done_step() { echo "$progress_name: $1 ($(_progress_elapsed "$_progress_step_start"))"; }
total() { echo "$progress_name: ${1:-done} ($(_progress_elapsed "$_progress_script_start"))"; }
