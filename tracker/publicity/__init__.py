"""The publicity-activity register (宣传活动台账) and the 无诈单位 creation register (无诈创建)."""
