# Every type the stand-in serves, wired the way the generated module wires them.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "aws" {
  region = "us-east-2"

  default_tags {
    tags = {
      Project = "standin"
    }
  }
}

variable "control_account_id" {
  type    = string
  default = "111122223333"
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.region
}

resource "aws_s3_bucket" "data" {
  bucket = "standin-data-bucket"
}

resource "aws_s3_bucket" "logs" {
  bucket        = "standin-trail-logs"
  force_destroy = true

  tags = {
    Purpose = "cloudtrail"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "data" {
  statement {
    sid = "QuiltCrossAccountAccess"

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${var.control_account_id}:root"]
    }

    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]
  }
}

resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.data.json
}

resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }

  depends_on = [aws_s3_bucket_policy.data]
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "AWSCloudTrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.logs.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
  }

  statement {
    sid       = "AWSCloudTrailWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/AWSLogs/${local.account}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json
}

resource "aws_cloudtrail" "basic" {
  name                  = "standin-basic"
  s3_bucket_name        = aws_s3_bucket.logs.id
  is_multi_region_trail = true

  event_selector {
    read_write_type           = "All"
    include_management_events = false

    data_resource {
      type   = "AWS::S3::Object"
      values = ["${aws_s3_bucket.data.arn}/"]
    }
  }

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_cloudtrail" "advanced" {
  name           = "standin-advanced"
  s3_bucket_name = aws_s3_bucket.logs.id

  advanced_event_selector {
    name = "Quilt data events"

    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }

    field_selector {
      field  = "resources.type"
      equals = ["AWS::S3::Object"]
    }

    field_selector {
      field       = "resources.ARN"
      starts_with = ["${aws_s3_bucket.data.arn}/"]
    }
  }

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_sns_topic_policy" "trail" {
  arn = "arn:${local.partition}:sns:${local.region}:${local.account}:standin-topic"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudTrailPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "SNS:Publish"
      Resource  = "arn:${local.partition}:sns:${local.region}:${local.account}:standin-topic"
    }]
  })
}

output "data_bucket_arn" {
  value = aws_s3_bucket.data.arn
}

output "trail_arn" {
  value = aws_cloudtrail.basic.arn
}

output "data_policy" {
  value = aws_s3_bucket_policy.data.policy
}
