// The seccomp items of a request (docs/core-abi.md "seccomp"), shared by buildPlan and
// seccompCompile: the profile as OCI's linux.seccomp has it, one frame per part, with docker's
// includes/excludes as conditions of a rule. ts/ only reads the JSON: every name (action,
// operator, architecture, flag, capability) is read and refused here, naming the field as
// the profile spells it (`seccomp: syscalls[3].args[0].op: unknown operator "SCMP_CMP_XX"`).

import { Failure, invalid, malformed } from "../abi";
import { Fields, STR_MAX } from "../codec";
import { capabilityBit } from "./caps";
import { actionValue, archBit, ArgCondition, EPERM, ERRNO_MAX, flagValue, operatorValue, Profile, Rule } from "./profile";

export const REQ_SECCOMP: u32 = 0x0300;
export const REQ_SECCOMP_ARCHES: u32 = 0x0301;
export const REQ_SECCOMP_RULE: u32 = 0x0302;
export const REQ_SECCOMP_ARG: u32 = 0x0303;
export const REQ_SECCOMP_WHEN: u32 = 0x0304;
export const REQ_SECCOMP_KERNEL: u32 = 0x0305;
export const REQ_SECCOMP_CAPS: u32 = 0x0306;

/** SECCOMP's mode: docker's default profile, the profile the frames give, or no filter. */
export const MODE_NONE: u64 = 0;
export const MODE_DEFAULT: u64 = 1;
export const MODE_PROFILE: u64 = 2;
export const MODE_UNCONFINED: u64 = 3;

/** errnoRet not given (the field's value then). */
export const ERRNO_UNSET: u64 = 0xffffffffffffffff;
export const RULES_MAX: i32 = 4096;
/** seccomp_data has six arguments. */
export const ARGS_MAX: i32 = 6;

export class SeccompRequest {
  mode: u64 = MODE_NONE;
  profile: Profile = new Profile();
  hasKernel: bool = false;
  kernel: string = "";
  hasCaps: bool = false;
  caps: u64 = 0;
  /** Arguments seen for the current rule (index checks). */
  private argsSeen: i32 = 0;
  private sawArches: bool = false;

  isItem(type: u32): bool {
    return type >= REQ_SECCOMP && type <= REQ_SECCOMP_CAPS;
  }

  /** Decodes one item; status 1 for its shape, status 2 for a name or value the profile gave. */
  decode(type: u32, ptr: usize, len: i32, index: i32): Failure | null {
    const f = Fields.ofFrame(ptr, len, index, itemName(type));
    let failure: Failure | null = null;
    switch (type) {
      case REQ_SECCOMP: failure = this.decodeProfile(f); break;
      case REQ_SECCOMP_ARCHES: failure = this.decodeArches(f); break;
      case REQ_SECCOMP_RULE: failure = this.decodeRule(f); break;
      case REQ_SECCOMP_ARG: failure = this.decodeArg(f); break;
      case REQ_SECCOMP_WHEN: failure = this.decodeWhen(f); break;
      case REQ_SECCOMP_KERNEL: {
        if (this.hasKernel) return malformed(f.context + ": given twice");
        this.hasKernel = true;
        this.kernel = f.str("release", STR_MAX);
        break;
      }
      default: {
        if (this.hasCaps) return malformed(f.context + ": given twice");
        this.hasCaps = true;
        this.caps = f.u64("caps");
      }
    }
    if (!f.finish()) return f.failure;
    return failure;
  }

  /** After the last item: the shape of the whole (status 1). */
  check(): Failure | null {
    if (this.mode != MODE_PROFILE && (this.profile.rules.length > 0 || this.sawArches)) {
      return malformed("request: SECCOMP_RULE or SECCOMP_ARCHES without a SECCOMP frame of mode 2");
    }
    return null;
  }

  private decodeProfile(f: Fields): Failure | null {
    if (this.mode != MODE_NONE) return malformed(f.context + ": given twice");
    const mode = f.u64("mode");
    const action = f.str("default_action", STR_MAX);
    const errno = f.u64("default_errno");
    const flags = f.strs("flags", STR_MAX);
    if (!f.ok) return null;
    if (mode < MODE_DEFAULT || mode > MODE_UNCONFINED) return malformed(f.context + ": mode: unknown value " + mode.toString());
    this.mode = mode;
    if (mode != MODE_PROFILE) {
      if (action.length > 0 || errno != ERRNO_UNSET || flags.length > 0) return malformed(f.context + ": a profile's fields without mode 2");
      return null;
    }
    const value = action_(action, errno);
    if (value < 0) return invalid(actionProblem(action, errno, "defaultAction", "defaultErrnoRet"));
    // As runc: the launcher's own calls after the filter (its hand-over of the listener
    // among them) would wait on an agent that has no listener yet.
    if (action == "SCMP_ACT_NOTIFY") return invalid("seccomp: defaultAction: SCMP_ACT_NOTIFY cannot be the default action (only a rule's)");
    this.profile.defaultAction = <u32>value;
    for (let i = 0; i < flags.length; i++) {
      const flag = flagValue(flags[i]);
      if (flag < 0) return invalid("seccomp: flags: unknown flag \"" + flags[i] + "\"");
      this.profile.flags |= <u64>flag;
    }
    return null;
  }

  private decodeArches(f: Fields): Failure | null {
    if (this.sawArches) return malformed(f.context + ": given twice");
    this.sawArches = true;
    const names = f.strs("names", STR_MAX);
    if (!f.ok) return null;
    for (let i = 0; i < names.length; i++) {
      const bit = archBit(names[i]);
      if (bit < 0) return invalid("seccomp: architectures: unknown architecture \"" + names[i] + "\"");
      this.profile.arches |= <u32>bit;
    }
    return null;
  }

  private decodeRule(f: Fields): Failure | null {
    const names = f.strs("names", STR_MAX);
    const action = f.str("action", STR_MAX);
    const errno = f.u64("errno");
    if (!f.ok) return null;
    if (this.profile.rules.length == RULES_MAX) return invalid("seccomp: syscalls: more than " + RULES_MAX.toString() + " entries");
    const where = "syscalls[" + this.profile.rules.length.toString() + "]";
    const value = action_(action, errno);
    if (value < 0) return invalid(actionProblem(action, errno, where + ".action", where + ".errnoRet"));
    // The container process writes the listener's number to the launcher with write(2)
    // before the agent has the listener (docs/protocol.md "The seccomp listener"), as runc's.
    if (action == "SCMP_ACT_NOTIFY" && names.includes("write")) return invalid("seccomp: " + where + ".action: SCMP_ACT_NOTIFY cannot be used for write (the listener is handed over with it)");
    const rule = new Rule();
    rule.names = names;
    rule.action = <u32>value;
    this.profile.rules.push(rule);
    this.argsSeen = 0;
    return null;
  }

  private lastRule(): Rule | null {
    if (this.profile.rules.length == 0) return null;
    return this.profile.rules[this.profile.rules.length - 1];
  }

  private decodeArg(f: Fields): Failure | null {
    const index = f.u64("index");
    const value = f.u64("value");
    const valueTwo = f.u64("value_two");
    const op = f.str("op", STR_MAX);
    if (!f.ok) return null;
    const rule = this.lastRule();
    if (rule === null) return malformed(f.context + ": no SECCOMP_RULE before it");
    const where = "seccomp: syscalls[" + (this.profile.rules.length - 1).toString() + "].args[" + this.argsSeen.toString() + "]";
    this.argsSeen++;
    if (index >= <u64>ARGS_MAX) return invalid(where + ".index: " + index.toString() + " is not an argument (0 to 5)");
    const operator = operatorValue(op);
    if (operator < 0) return invalid(where + ".op: unknown operator \"" + op + "\"");
    rule.args.push(new ArgCondition(<i32>index, operator, value, valueTwo));
    return null;
  }

  private decodeWhen(f: Fields): Failure | null {
    const includeCaps = f.strs("include_caps", STR_MAX);
    const excludeCaps = f.strs("exclude_caps", STR_MAX);
    const includeArches = f.strs("include_arches", STR_MAX);
    const excludeArches = f.strs("exclude_arches", STR_MAX);
    const minKernel = f.str("min_kernel", STR_MAX);
    if (!f.ok) return null;
    const rule = this.lastRule();
    if (rule === null) return malformed(f.context + ": no SECCOMP_RULE before it");
    const where = "seccomp: syscalls[" + (this.profile.rules.length - 1).toString() + "]";
    for (let pass = 0; pass < 2; pass++) {
      const list = pass == 0 ? includeCaps : excludeCaps;
      for (let i = 0; i < list.length; i++) {
        const bit = capabilityBit(list[i]);
        if (bit < 0) return invalid(where + (pass == 0 ? ".includes" : ".excludes") + ".caps: unknown capability \"" + list[i] + "\"");
        if (pass == 0) rule.includeCaps |= <u64>1 << <u64>bit;
        else rule.excludeCaps |= <u64>1 << <u64>bit;
      }
    }
    rule.includeArches = includeArches;
    rule.excludeArches = excludeArches;
    rule.minKernel = minKernel;
    return null;
  }
}

function itemName(type: u32): string {
  switch (type) {
    case REQ_SECCOMP: return "SECCOMP";
    case REQ_SECCOMP_ARCHES: return "SECCOMP_ARCHES";
    case REQ_SECCOMP_RULE: return "SECCOMP_RULE";
    case REQ_SECCOMP_ARG: return "SECCOMP_ARG";
    case REQ_SECCOMP_WHEN: return "SECCOMP_WHEN";
    case REQ_SECCOMP_KERNEL: return "SECCOMP_KERNEL";
  }
  return "SECCOMP_CAPS";
}

/** The return value of an action with its errnoRet (EPERM when not given), or -1. */
function action_(name: string, errno: u64): i64 {
  const takesErrno = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
  if (errno != ERRNO_UNSET && (!takesErrno || errno > ERRNO_MAX)) return -1;
  return actionValue(name, errno == ERRNO_UNSET ? EPERM : <u32>errno);
}

/** Why action_ said -1, naming the field. */
function actionProblem(name: string, errno: u64, field: string, errnoField: string): string {
  if (actionValue(name, 0) < 0) return "seccomp: " + field + ": unknown action \"" + name + "\"";
  if (errno > ERRNO_MAX && (name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE")) {
    return "seccomp: " + errnoField + ": " + errno.toString() + " is over 65535";
  }
  return "seccomp: " + errnoField + ": only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one (" + name + ")";
}
