run "plan_ownership" {
  command = plan

  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "Object ownership must be BucketOwnerEnforced."
  }
}

run "apply_bucket" {
  assert {
    condition     = aws_s3_bucket.this.arn == "arn:aws:s3:::standin-test-bucket"
    error_message = "The bucket ARN is computed at apply."
  }
}
