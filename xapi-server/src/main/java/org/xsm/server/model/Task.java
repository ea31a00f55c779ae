package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The XenAPI class {@code task}. */
public final class Task {
  private Task() {}

  public static final XClass<Task> CLASS = new XClass<>("task");
  public static final Field<Task, String> UUID = CLASS.uuid();
  public static final Field<Task, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Task, String> NAME_DESCRIPTION = CLASS.string("name_description", RW);
  public static final Field<Task, List<String>> ALLOWED_OPERATIONS =
      CLASS.strings("allowed_operations", RO);
  public static final Field<Task, Map<String, String>> CURRENT_OPERATIONS =
      CLASS.map("current_operations", RO);
  public static final Field<Task, Instant> CREATED = CLASS.datetime("created", RO);
  public static final Field<Task, Instant> FINISHED = CLASS.datetime("finished", RO);
  public static final Field<Task, TaskStatus> STATUS =
      CLASS.enumeration("status", TaskStatus.class, RO, TaskStatus.PENDING);
  public static final Field<Task, Ref<Host>> RESIDENT_ON = CLASS.ref("resident_on", "host", RO);
  public static final Field<Task, Double> PROGRESS = CLASS.floating("progress", RO);
  public static final Field<Task, String> TYPE = CLASS.string("type", RO);
  public static final Field<Task, String> RESULT = CLASS.string("result", RO);
  public static final Field<Task, List<String>> ERROR_INFO = CLASS.strings("error_info", RO);
  public static final Field<Task, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Task, Ref<Task>> SUBTASK_OF = CLASS.ref("subtask_of", "task", RO);
  public static final Field<Task, List<Ref<Task>>> SUBTASKS =
      CLASS.inverse("subtasks", "task", "subtask_of");
  public static final Field<Task, String> BACKTRACE = CLASS.string("backtrace", RO);
}
